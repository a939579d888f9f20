"""Codes attached in the field and labels printed: pushed, replayed, scoped, pulled back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.server.conftest import RunningServer
from tests.server.helpers import Api, Device, asset, only


def asset_code(asset_id: str, code: str = "0012345", **overrides: Any) -> dict[str, Any]:
    """Fields of a valid attached code."""
    fields = {
        "asset_id": asset_id,
        "code": code,
        "kind": "label",
        "source": "scan",
        "raw": "]C0" + code + "\\r",
        "created_at": datetime.now(UTC).isoformat(),
    }
    return {**fields, **overrides}


def label_print(asset_id: str, **overrides: Any) -> dict[str, Any]:
    """Fields of a valid label print."""
    fields = {
        "asset_id": asset_id,
        "symbology": "qr",
        "digital_link": True,
        "layout": "avery-l7651",
        "output": "pdf",
        "printed_at": datetime.now(UTC).isoformat(),
    }
    return {**fields, **overrides}


def _asset(api: Api, device: Device, tag: str, site: str = "HQ-DC1") -> str:
    created = device.create("asset", asset(tag, site))
    assert only(api.push_ok(device, created))["outcome"] == "applied"
    return str(created["entity_id"])


def _pulled(api: Api, entity: str) -> dict[str, dict[str, Any]]:
    changes, _ = api.pull_all()
    return {c["entity_id"]: c for c in changes if c["entity"] == entity}


def test_codes_and_prints_are_applied_once_and_replayed(server: RunningServer) -> None:
    tom, device = server.api("tom"), Device()
    asset_id = _asset(tom, device, "IT-004217")
    batch = [
        device.create("asset_code", asset_code(asset_id, created_by="someone-else")),
        device.create("label_print", label_print(asset_id)),
    ]
    first = tom.push_ok(device, *batch)
    assert [(r["outcome"], r["version"]) for r in first] == [("applied", 1), ("applied", 1)]
    again = tom.push_ok(device, *batch)
    assert [r["replayed"] for r in again] == [True, True]
    assert [r["outcome"] for r in again] == ["applied", "applied"]

    codes, prints = _pulled(tom, "asset_code"), _pulled(tom, "label_print")
    assert len(codes) == 1 and len(prints) == 1
    code = codes[batch[0]["entity_id"]]
    assert code["op"] == "upsert" and code["version"] == 1
    # Who made it is the signed-in user, whatever the device claimed.
    assert code["fields"]["created_by"] == "tom"
    assert code["fields"]["code"] == "0012345"  # leading zeros are data
    assert code["fields"]["raw"] == "]C00012345\\r"
    printed = prints[batch[1]["entity_id"]]["fields"]
    assert printed["printed_by"] == "tom"
    assert (printed["symbology"], printed["digital_link"], printed["layout"]) == (
        "qr",
        True,
        "avery-l7651",
    )


def test_a_code_names_one_asset_however_many_devices_attach_it(
    server: RunningServer,
) -> None:
    """Two devices attaching a code to one asset both count; to another asset it is refused."""
    tom, device, other = server.api("tom"), Device(), Device()
    first, second = _asset(tom, device, "IT-1"), _asset(tom, device, "IT-2")
    results = [
        only(tom.push_ok(device, device.create("asset_code", asset_code(first)))),
        only(tom.push_ok(other, other.create("asset_code", asset_code(first)))),
        only(tom.push_ok(device, device.create("asset_code", asset_code(second)))),
    ]
    assert [r["outcome"] for r in results] == ["applied", "applied", "rejected"]
    assert results[2]["code"] == "duplicate_value"
    assert "already registered" in results[2]["reason"]
    assert len(_pulled(tom, "asset_code")) == 2


def test_unknown_or_deleted_asset_is_a_missing_reference(server: RunningServer) -> None:
    tom, ada, device = server.api("tom"), server.api("ada"), Device()
    nowhere = "0190a000-0000-7000-8000-0000000000ff"
    results = tom.push_ok(
        device,
        device.create("asset_code", asset_code(nowhere)),
        device.create("label_print", label_print(nowhere)),
    )
    assert [(r["outcome"], r["code"]) for r in results] == [
        ("rejected", "missing_reference"),
        ("rejected", "missing_reference"),
    ]
    gone = _asset(tom, device, "IT-GONE")
    admin = Device()
    only(ada.push_ok(admin, admin.delete("asset", gone, 1)))
    result = only(tom.push_ok(device, device.create("asset_code", asset_code(gone))))
    assert (result["outcome"], result["code"]) == ("rejected", "missing_reference")


def test_outside_ones_sites_is_refused_and_not_pulled(server: RunningServer) -> None:
    tom, tia = server.api("tom"), server.api("tia")
    toms, tias = Device(), Device()
    leeds = _asset(tia, tias, "IT-LEEDS", "BR-LEEDS")
    # tom does not cover BR-LEEDS: the asset is as good as absent for him.
    results = tom.push_ok(
        toms,
        toms.create("asset_code", asset_code(leeds)),
        toms.create("label_print", label_print(leeds)),
    )
    assert [r["code"] for r in results] == ["missing_reference", "missing_reference"]

    only(tia.push_ok(tias, tias.create("asset_code", asset_code(leeds, "LEEDS-7"))))
    only(tia.push_ok(tias, tias.create("label_print", label_print(leeds, output="zpl"))))
    assert len(_pulled(tia, "asset_code")) == 1 and len(_pulled(tia, "label_print")) == 1
    assert _pulled(tom, "asset_code") == {} and _pulled(tom, "label_print") == {}
    lee = server.api("lee")  # a lead sees every site
    assert len(_pulled(lee, "asset_code")) == 1


def test_codes_and_prints_are_never_edited(server: RunningServer) -> None:
    tom, device = server.api("tom"), Device()
    asset_id = _asset(tom, device, "IT-3")
    code = device.create("asset_code", asset_code(asset_id))
    printed = device.create("label_print", label_print(asset_id))
    tom.push_ok(device, code, printed)
    results = tom.push_ok(
        device,
        device.update("asset_code", code["entity_id"], 1, code="999"),
        device.update("label_print", printed["entity_id"], 1, output="zpl"),
    )
    assert [r["code"] for r in results] == ["append_only", "append_only"]


def test_bad_fields_are_refused_with_the_field_named(server: RunningServer) -> None:
    tom, device = server.api("tom"), Device()
    asset_id = _asset(tom, device, "IT-4")
    bad = [
        asset_code(asset_id, code="00\x1d12"),  # a control character in the code
        asset_code(asset_id, code="   "),
        asset_code(asset_id, code="x" * 129),
        asset_code(asset_id, kind="barcode"),
        asset_code(asset_id, source="guessed"),
        asset_code(asset_id, raw="x" * 257),
        asset_code(asset_id, raw="\r"),  # raw must come with its controls escaped
        label_print(asset_id, symbology="ean13"),
        label_print(asset_id, output="png"),
        label_print(asset_id, layout=""),
    ]
    kinds = ["asset_code"] * 7 + ["label_print"] * 3
    results = tom.push_ok(device, *(device.create(k, f) for k, f in zip(kinds, bad, strict=True)))
    assert [r["code"] for r in results] == ["invalid_fields"] * len(bad)
    reasons = [r["reason"] for r in results]
    assert reasons[0].startswith("code:") and reasons[3].startswith("kind:")
    assert reasons[7].startswith("symbology:") and reasons[8].startswith("output:")


def test_a_code_follows_its_asset_to_another_site(server: RunningServer) -> None:
    """Scoping is through the parent asset: when the asset moves, its codes go with it."""
    tom, lee, device, leads = server.api("tom"), server.api("lee"), Device(), Device()
    asset_id = _asset(tom, device, "IT-MOVE")
    only(tom.push_ok(device, device.create("asset_code", asset_code(asset_id, "MOVE-1"))))
    assert len(_pulled(tom, "asset_code")) == 1
    only(lee.push_ok(leads, leads.update("asset", asset_id, 1, site_code="BR-LEEDS")))
    assert _pulled(tom, "asset_code") == {}
    assert len(_pulled(server.api("tia"), "asset_code")) == 1
