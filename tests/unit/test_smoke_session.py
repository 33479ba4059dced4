from aioresponses import aioresponses

from yotta_async import PodStatus, YottaClient

BASE = "https://api.yottalabs.ai"


async def test_get_decodes_string_id_and_alias(mock_api: aioresponses) -> None:
    mock_api.get(
        f"{BASE}/v2/pods/5",
        payload={"code": 10000, "message": "ok", "data": {"id": "331864222263676928", "status": "STOPPED"}},
    )
    async with YottaClient("k") as client:
        pod = await client.pods.get(5)
    assert pod.id == 331864222263676928
    assert pod.status is PodStatus.PAUSED
