"""The exit codes of the `lowdash` commands: a public interface (README, scripts), so values
are added, never changed."""

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran and could not do it (no cache yet, damage, a write failed)
EXIT_USAGE = 2  # what was asked cannot be done as asked (arguments, no cached account)
EXIT_AUTH = 3  # the platform refused the API key
EXIT_OFFLINE = 4  # the platform could not be reached
