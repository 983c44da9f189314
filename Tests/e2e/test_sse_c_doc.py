"""Every command of the SSE-C documentation page, verbatim, through the AWS CLI."""

import pathlib
import subprocess

REPO = pathlib.Path(__file__).resolve().parents[2]


def documentation_page() -> pathlib.Path:
    # The product page lives in shared/ beside the repository; docs/ keeps a copy for clones without it.
    shared = REPO.parent / "shared" / "docs" / "sse-c.md"
    return shared if shared.exists() else REPO / "docs" / "sse-c.md"


def test_sse_c_page_commands_run_verbatim(stack, aws, tmp_path):
    env = dict(stack.aws_env)
    env["PATH"] = str(pathlib.Path(aws.executable).parent) + ":" + env["PATH"]
    result = subprocess.run(["bash", str(REPO / "Tests" / "e2e" / "sse_c_doc.sh"), str(documentation_page()), str(tmp_path)],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all commands ran as documented" in result.stdout
