"""env.groovy codec throughput against json.dumps/json.loads of the same values (same run)."""

from __future__ import annotations

import json

from bench._timing import median_seconds
from pipelinelib.formats import groovy
from pipelinelib.model import ServiceBuild, clean_text
from tests.fakes.hostile import corpus

REPEAT = 7


def main() -> None:
    values = [clean_text(v) for v in corpus()][:200]
    builds = [
        ServiceBuild(name=f"s{i}", build=i + 1, commit_message=v) for i, v in enumerate(values)
    ]
    text = groovy.render_env_groovy(builds)
    payload = [b.to_dict() for b in builds]
    as_json = json.dumps(payload)
    render = median_seconds(lambda: groovy.render_env_groovy(builds), REPEAT)
    render_base = median_seconds(lambda: json.dumps(payload), REPEAT)
    parse = median_seconds(lambda: groovy.parse_env_groovy(text), REPEAT)
    parse_base = median_seconds(lambda: json.loads(as_json), REPEAT)
    size = len(text.encode())
    print(
        f"render {len(builds)} services ({size / 1e6:.2f} MB env.groovy): {render * 1000:.1f} ms "
        f"vs json.dumps {render_base * 1000:.1f} ms -> ratio {render / render_base:.1f}x"
    )
    print(
        f"parse the same file: {parse * 1000:.1f} ms "
        f"vs json.loads {parse_base * 1000:.1f} ms -> ratio {parse / parse_base:.1f}x"
    )


if __name__ == "__main__":
    main()
