"""The Dockerfile builds each binary with --locked --release into a distroless non-root image,
the chart's appVersion (the default image tag) follows the workspace version, and a digest pins an image."""

from __future__ import annotations

import re
import tomllib

import yaml

from conftest import CHART_DIR, RELEASE, REPO_ROOT, by_kind, render_objects

DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()


def stages() -> dict[str, list[str]]:
    """Instructions of each named stage (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    named, current = {}, None
    for line in text.splitlines():
        line = line.strip()
        match = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.IGNORECASE)
        if match:
            current = match.group(2) or match.group(1)
            named[current] = [line]
        elif current and line and not line.startswith("#"):
            named[current].append(line)
    return named


def test_each_binary_has_a_distroless_nonroot_target_holding_only_the_binary():
    all_stages = stages()
    for binary, port in (("api-server", "8080"), ("operator", "8081")):
        final = all_stages[binary]
        assert final[0].startswith("FROM gcr.io/distroless/cc-debian12:nonroot"), final[0]
        copies = [line for line in final if line.startswith("COPY")]
        assert copies == [f"COPY --from=build-{binary} /out/{binary} /usr/local/bin/{binary}"]
        assert "USER 65532:65532" in final
        assert f'ENTRYPOINT ["/usr/local/bin/{binary}"]' in final
        assert f"EXPOSE {port}" in final
        build = " ".join(all_stages[f"build-{binary}"])
        assert f"cargo build --locked --release -p {binary}" in build


def test_the_image_user_is_the_one_the_chart_runs_as():
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    assert values["apiServer"]["image"]["repository"].endswith("/api-server")
    assert values["operator"]["image"]["repository"].endswith("/operator")
    helpers = (CHART_DIR / "templates" / "_helpers.tpl").read_text()
    assert helpers.count("runAsUser: 65532") == 2


def test_chart_app_version_is_the_workspace_version():
    workspace = tomllib.loads((REPO_ROOT / "Cargo.toml").read_text())
    chart = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())
    assert chart["appVersion"] == workspace["workspace"]["package"]["version"]


COMPONENT_VALUES = {"apiServer": "api-server", "operator": "operator", "relay": "relay"}
DIGEST = "sha256:" + "0123456789abcdef" * 4


def rendered_images(chart, values: dict) -> dict[str, str]:
    objects = render_objects(chart, {"relay": {"enabled": True}, **values})
    prefix = f"{RELEASE}-liveops-"
    return {d["metadata"]["name"].removeprefix(prefix): d["spec"]["template"]["spec"]["containers"][0]["image"]
            for d in by_kind(objects, "Deployment")}


def test_a_digest_pins_each_component_and_wins_over_its_tag(chart):
    for key, component in COMPONENT_VALUES.items():
        values = {key: {"image": {"tag": "9.9.9", "digest": DIGEST}}}
        if key == "relay":
            values["relay"]["enabled"] = True
        images = rendered_images(chart, values)
        assert images[component] == f"liveops/{component}@{DIGEST}", "the tag is ignored when a digest is set"
        others = {name: image for name, image in images.items() if name != component}
        assert all(image.endswith(":0.1.0") for image in others.values()), "a digest pins only its own component"


def test_without_a_digest_the_tag_or_the_app_version_is_used(chart):
    images = rendered_images(chart, {"operator": {"image": {"tag": "1.2.3"}}})
    assert images == {"api-server": "liveops/api-server:0.1.0", "operator": "liveops/operator:1.2.3",
                      "relay": "liveops/relay:0.1.0"}
