import re

from fastapi.testclient import TestClient


def test_docs_page_loads_only_local_assets(client: TestClient) -> None:
    page = client.get("/docs")

    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)=["\']([^"\']+)["\']', page.text)
    sources += re.findall(r"url: *['\"]([^'\"]+)['\"]", page.text)
    assert sources
    for source in sources:
        assert not source.startswith(("http:", "https:", "//")), source
        assert client.get(source).status_code == 200, source
    assert "cdn" not in page.text.lower()


def test_redoc_page_loads_only_local_assets(client: TestClient) -> None:
    page = client.get("/redoc")

    assert page.status_code == 200
    scripts = re.findall(r'src="([^"]+)"', page.text)
    assert scripts
    for script in scripts:
        assert not script.startswith(("http:", "https:", "//")), script
        assert client.get(script).status_code == 200
    assert "fonts.googleapis" not in page.text


def test_swagger_ui_is_version_5_which_reads_openapi_3_1(client: TestClient) -> None:
    bundle = client.get("/docs/assets/swagger-ui-bundle.js").text
    assert re.search(r'"5\.\d+\.\d+"', bundle)
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
