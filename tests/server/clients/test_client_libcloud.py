"""Apache Libcloud's CloudStack driver against a live server: sizes, locations, images, nodes, errors."""

from __future__ import annotations

from typing import Any

import pytest
from inventory_seed import create_offering, create_zone
from libcloud.common.types import InvalidCredsError, ProviderError
from libcloud.compute.drivers.cloudstack import CloudStackNodeDriver


def _driver(server: Any, key: str | None = None, secret: str | None = None) -> CloudStackNodeDriver:
    if key is None or secret is None:
        key, secret = server.admin_keys()
    return CloudStackNodeDriver(key, secret, secure=False, host="127.0.0.1", port=server.port, path="/client/api")


def test_list_locations_are_the_zones(cloud: Any) -> None:
    zones = [create_zone(cloud.cs(), name=f"zone-{i}") for i in range(2)]
    locations = _driver(cloud).list_locations()
    assert sorted((loc.id, loc.name) for loc in locations) == sorted((z["id"], z["name"]) for z in zones)


def test_list_sizes_are_the_service_offerings(cloud: Any) -> None:
    client = cloud.cs()
    offering = create_offering(client, name="Large HA")
    create_offering(client, name="Small")
    sizes = {size.name: size for size in _driver(cloud).list_sizes()}
    # besides the offerings a new installation has (CloudStack's, made by db upgrade on a new database)
    assert set(sizes) - {"Small Instance", "Medium Instance"} == {"Large HA", "Small"}
    large = sizes["Large HA"]
    assert large.id == offering["id"] and large.ram == 2048 and large.extra["cpu"] == 2


def test_list_images_are_the_executable_templates(cloud: Any) -> None:
    client = cloud.cs()
    zone = create_zone(client)
    [template] = client.registerTemplate(name="win2022", displaytext="Windows Server 2022", format="VHD",
                                         hypervisor="Hyper-V", zoneid=zone["id"],
                                         url="http://127.0.0.1/templates/win2022.vhd")["template"]
    images = _driver(cloud).list_images()
    assert [image.id for image in images] == [template["id"]]
    assert images[0].name == "win2022" and images[0].extra["format"] == "VHD"
    assert images[0].extra["hypervisor"] == "Hyperv"


def test_list_nodes_with_no_instances(cloud: Any) -> None:
    assert _driver(cloud).list_nodes() == []


def test_missing_parameter_reaches_libcloud_as_431_naming_it(cloud: Any) -> None:
    driver = _driver(cloud)
    with pytest.raises(ProviderError) as refused:
        driver._sync_request("createZone", params={"networktype": "Advanced"})
    assert refused.value.http_code == 431
    assert "name" in str(refused.value.value)


def test_bad_secret_reaches_libcloud_as_invalid_credentials(cloud: Any) -> None:
    key, secret = cloud.admin_keys()
    with pytest.raises(InvalidCredsError):
        _driver(cloud, key, secret + "x").list_locations()


def test_libcloud_signs_map_parameters_its_own_way(cloud: Any) -> None:
    create_zone(cloud.cs(), name="tagged")
    answer = _driver(cloud)._sync_request("listZones", params={"tags[0].key": "a", "tags[0].value": "b c"})
    assert answer == {} or "zone" in answer
