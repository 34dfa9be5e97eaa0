"""Qt-free energy/carbon methodology shared by the app and the demo platform."""

from lowdash_desktop.eco.methodology import (
    ECOLOGITS_VERSION,
    METHOD_VERSION,
    EcoEstimate,
    Params,
    Range,
    estimate,
    params_json,
    parse_param_count,
)

__all__ = [
    "ECOLOGITS_VERSION",
    "METHOD_VERSION",
    "EcoEstimate",
    "Params",
    "Range",
    "estimate",
    "params_json",
    "parse_param_count",
]
