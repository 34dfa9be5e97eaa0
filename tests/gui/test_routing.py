"""The auto-routing form against the demo platform: load, validate before saving, save, errors."""

from __future__ import annotations

from decimal import Decimal

from lowdash_desktop.api.connection import Connection
from lowdash_desktop.session.answers import CachedAnswers
from lowdash_desktop.ui.dialogs.routing_dialog import RoutingDialog, rule_problems


def open_routing(qtbot, platform, key: str | None = None) -> RoutingDialog:
    dialog = RoutingDialog(Connection(platform.base_url, key or platform.api_key))
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.loaded, timeout=20_000):
        assert dialog.load()
    return dialog


def test_rule_problems_explain_invalid_combinations():
    base = {
        "strategy": "auto",
        "preference": "cheapest",
        "prefer_region": None,
        "fixed_provider": None,
        "max_price_per_mtok": None,
    }
    assert rule_problems(base) == []
    assert rule_problems({**base, "preference": "fixed_provider"}) == [
        "The preference “fixed provider” needs a provider chosen."
    ]
    assert rule_problems({**base, "strategy": "fixed"}) == [
        "The strategy “fixed” needs a provider chosen."
    ]
    assert rule_problems({**base, "max_price_per_mtok": Decimal("-1")}) == [
        "The maximum price cannot be negative."
    ]
    assert "not a region" in rule_problems({**base, "prefer_region": "mars-1"}, [], ["fr-par"])[0]


def test_load_shows_defaults_and_overrides(qtbot, demo_platform):
    dialog = open_routing(qtbot, demo_platform)
    rule = dialog.default_editor.rule()
    assert rule["strategy"] == "auto" and rule["preference"] == "cheapest"
    assert rule["prefer_region"] == "fr-par"
    assert dialog.override_list.count() == 1
    assert dialog.override_list.item(0).text().startswith("Staging")
    override = dialog.override_editor.rule()
    assert override["fixed_provider"] == "scaleway" and override["strategy"] == "fixed"
    assert override["max_price_per_mtok"] == Decimal("2.00")
    assert dialog.ok_button.isEnabled()
    dialog.close()


def test_invalid_combination_is_explained_and_blocks_saving(qtbot, demo_platform):
    dialog = open_routing(qtbot, demo_platform)
    editor = dialog.default_editor
    editor.preference.setCurrentIndex(editor.preference.findData("fixed_provider"))
    assert not dialog.ok_button.isEnabled()
    assert "needs a provider chosen" in dialog.problems.text()
    editor.max_price.setText("-0.5")
    assert "cannot be negative" in dialog.problems.text()
    dialog.submit()  # even forced, nothing is sent
    assert not dialog.runner.busy and "Default:" in dialog.status.text
    editor.provider.setCurrentIndex(editor.provider.findData("ovh"))
    editor.max_price.setText("3")
    assert dialog.ok_button.isEnabled() and "✖" not in dialog.problems.text()
    dialog.close()


def test_save_default_and_new_override(qtbot, demo_platform):
    dialog = open_routing(qtbot, demo_platform)
    editor = dialog.default_editor
    editor.preference.setCurrentIndex(editor.preference.findData("lowest_carbon"))
    editor.region.setCurrentIndex(editor.region.findData("eu-north-1"))
    editor.max_price.setText("4.5")
    ci = next(k for k in dialog.keys.values() if k.name == "CI pipeline")
    dialog.add_key.setCurrentIndex(dialog.add_key.findData(ci.id))
    dialog.add_button.click()
    assert dialog.override_list.count() == 2
    dialog.override_editor.strategy.setCurrentIndex(1)  # fixed, no provider yet
    assert not dialog.ok_button.isEnabled()
    assert "Override for CI pipeline" in dialog.problems.text()
    dialog.override_editor.provider.setCurrentIndex(dialog.override_editor.provider.findData("aws"))
    with qtbot.waitSignal(dialog.succeeded, timeout=20_000):
        dialog.ok_button.click()
        assert dialog.status.in_flight
    saved = demo_platform.routing
    assert saved["default"]["preference"] == "lowest_carbon"
    assert saved["default"]["prefer_region"] == "eu-north-1"
    assert saved["default"]["max_price_per_mtok"] == "4.50"
    assert saved["overrides"][ci.id]["fixed_provider"] == "aws"
    assert saved["overrides"][ci.id]["strategy"] == "fixed"
    assert not dialog.isVisible()


def test_platform_validation_error_is_verbatim_and_form_kept(qtbot, demo_platform):
    dialog = open_routing(qtbot, demo_platform)
    ci = next(k for k in dialog.keys.values() if k.name == "CI pipeline")
    dialog.add_override(ci.id)
    del demo_platform.keys[ci.id]  # revoked elsewhere while the form was open
    with qtbot.waitSignal(dialog.runner.finished, timeout=20_000):
        dialog.ok_button.click()
    assert "HTTP 422" in dialog.status.text
    assert f"overrides: unknown key id {ci.id}" in dialog.status.text
    assert dialog.isVisible() and ci.id in dialog.overrides
    dialog.close()


def test_read_only_key_cannot_save(qtbot, demo_platform):
    dialog = open_routing(qtbot, demo_platform, key=demo_platform.read_only_key)
    assert not dialog.ok_button.isEnabled()
    assert "lacks the 'manage' scope" in dialog.ok_button.toolTip()
    assert dialog.note.isVisible()
    dialog.close()


def test_insufficient_scope_from_the_platform(qtbot, demo_platform):
    dialog = open_routing(qtbot, demo_platform, key=demo_platform.read_only_key)
    dialog.reason = None  # as if the key's scopes were unknown: the platform decides
    with qtbot.waitSignal(dialog.runner.finished, timeout=20_000):
        dialog.submit()
    assert "HTTP 403" in dialog.status.text and "'manage' scope" in dialog.status.text
    dialog.close()


def test_a_maximum_price_of_0_is_explained_and_blocks_saving(qtbot, demo_platform):
    dialog = open_routing(qtbot, demo_platform)
    dialog.default_editor.max_price.setText("0")
    assert "A maximum price of 0 blocks every provider" in dialog.problems.text()
    assert not dialog.ok_button.isEnabled()
    dialog.submit()
    assert not dialog.runner.busy
    dialog.default_editor.max_price.setText("0.40")
    assert dialog.ok_button.isEnabled()
    dialog.close()


def synced_cache(platform, tmp_path):
    from lowdash_desktop.store.cache import Cache
    from lowdash_desktop.sync.engine import SyncEngine

    cache, _ = Cache.open(tmp_path / "cache.sqlite3")
    with Connection(platform.base_url, platform.api_key).client() as client:
        SyncEngine(client, cache).run()
    return cache


def test_a_maximum_price_below_every_providers_price_is_explained_where_typed(
    qtbot, demo_platform, tmp_path
):
    cache = synced_cache(demo_platform, tmp_path)
    models = cache.snapshot("models")[0]
    cheapest = min(Decimal(m[f]) for m in models
                   for f in ("price_prompt_per_mtok", "price_completion_per_mtok"))
    dialog = RoutingDialog(Connection(demo_platform.base_url, demo_platform.api_key),
                           CachedAnswers.of(cache))
    qtbot.addWidget(dialog)
    dialog.show()
    editor = dialog.default_editor
    for typed, said in (
        ("0.0000001", f"below the cheapest price the platform lists ({cheapest}"),
        ("1e9", "at most 1,000,000.00"),  # the key editor's bound, the same here
    ):
        editor.max_price.setText(typed)
        # under the field, with a red border, as it is typed, and saving waits
        assert editor.price_note.isVisible() and said in editor.price_note.text(), typed
        assert "b71c1c" in editor.max_price.styleSheet()
        assert not dialog.ok_button.isEnabled()
        assert said in dialog.problems.text()
    editor.max_price.setText(str(cheapest))
    assert not editor.price_note.isVisible() and editor.max_price.styleSheet() == ""
    assert dialog.ok_button.isEnabled()
    # a routing trace fetched for a generation knows a cheaper route: that is the bound
    gen_id = cache.conn.execute("SELECT id FROM generations LIMIT 1").fetchone()[0]
    cheaper = cheapest / 4
    cache.save_routing(gen_id, {"considered": [
        {"provider": "ovh", "region": "fr-gra", "price_per_mtok": str(cheaper)}]})
    dialog.close()
    dialog = RoutingDialog(Connection(demo_platform.base_url, demo_platform.api_key),
                           CachedAnswers.of(cache))
    qtbot.addWidget(dialog)
    dialog.default_editor.max_price.setText(str(cheapest / 2))
    assert not dialog.default_editor.price_note.isVisible()
    dialog.default_editor.max_price.setText(str(cheaper / 2))
    assert "below the cheapest price" in dialog.default_editor.price_note.text()
    dialog.close()
    cache.close()


def test_a_saved_tiny_price_reads_as_plain_decimals(qtbot, demo_platform):
    from lowdash_desktop.api.models import RoutingConfig

    dialog = open_routing(qtbot, demo_platform)
    dialog.set_config(RoutingConfig.model_validate(
        {"default": {"max_price_per_mtok": "0.0000001"}, "overrides": {}}))
    assert dialog.default_editor.max_price.text() == "0.0000001", "not '1E-7'"
    dialog.close()
