"""The ``propscan`` command: argument parsing and output formatting only.

Every command is a thin shell over the pipeline and the modules it names. Problems the user can
fix (``PropscanError``) become one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from propscan.errors import PropscanError

app = typer.Typer(
    name="propscan",
    help="Find where a news article manipulates its reader: propaganda spans, techniques, scores "
    "and a headline check.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """propscan: propaganda techniques in news articles (SemEval-2020 Task 11 taxonomy)."""


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one clear line on stderr and return the exit to raise."""
    typer.echo(f"propscan: {message}", err=True)
    return typer.Exit(code)


@app.command()
def analyze(
    paths: Annotated[list[str], typer.Argument(help="Article files, folders, URLs, or - for stdin.")],
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object per article (JSON Lines).")] = False,
) -> None:
    """Analyze articles and show their propaganda techniques."""
    from propscan.deliver.report import print_report
    from propscan.pipeline import analyze_many
    from propscan.readers import read_source

    failures = 0
    for path in paths:
        try:
            articles = read_source(path)
            for analysis in analyze_many(articles):
                if json_output:
                    sys.stdout.write(analysis.to_json() + "\n")
                    sys.stdout.flush()
                else:
                    print_report(analysis)
        except PropscanError as e:
            failures += 1
            typer.echo(f"propscan: {e}", err=True)
    if failures:
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except PropscanError as e:
        typer.echo(f"propscan: {e}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("propscan: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
