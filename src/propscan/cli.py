"""The ``propscan`` command: argument parsing and output formatting only.

Every command is a thin shell over the pipeline and the modules it names. Problems the user can
fix (``PropscanError``) become one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from propscan.errors import PropscanError


def _shipped_min_confidence() -> str:
    """The shipped model's precision-first threshold, as its configuration gives it (read without loading
    the model), for the help texts; "?" when the model files are missing."""
    import json

    try:
        config = json.loads((Path(__file__).parent / "weights" / "propaganda.json").read_text())
        return f"{float(config['calibration']['default_min_confidence']):.2f}"
    except (OSError, ValueError, KeyError, TypeError):
        return "?"


SHIPPED_MIN_CONFIDENCE = _shipped_min_confidence()

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


# In help texts "\\[" is a literal bracket: Typer reads them as Rich markup, where "[word ...]" is a style.
@app.command()
def analyze(
    paths: Annotated[list[str], typer.Argument(
        help="Article files (.txt, .html), folders (read recursively), .jsonl/.csv corpora, http(s) URLs, "
        "or - for standard input.")],
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object per article (JSON Lines).")] = False,
    allow_private: Annotated[bool, typer.Option(
        "--allow-private", help="Let URLs reach loopback, private and other non-public addresses.")] = False,
    max_bytes: Annotated[int | None, typer.Option(
        "--max-bytes", min=1, help="The largest input read, in bytes: a file, a page, a corpus article "
        "\\[default: 5000000].")] = None,
    colour: Annotated[bool | None, typer.Option(
        "--color/--no-color", help="Colour the report, or write it as plain text with spans marked inline "
        "\\[default: colour on a terminal unless NO_COLOR is set, plain text when piped].",
        show_default=False)] = None,
    min_confidence: Annotated[float | None, typer.Option(
        "--min-confidence", min=0.0, max=1.0, help="Show spans from this confidence on (the calibrated probability "
        "that a span is right) \\[default: the model's precision-first threshold, "
        f"{SHIPPED_MIN_CONFIDENCE} for the shipped model]; "
        "0 shows every span the model decoded.", show_default=False)] = None,
) -> None:
    """Analyze articles and show their propaganda techniques.

    On a terminal the report colours each span in its technique's colour and
    underlines text that lies inside more than one span. Piped (to a file,
    less or an email) or with --no-color (or NO_COLOR set), it is plain text
    with no escape codes, in which "\\[n:TAG " opens span n and "]n" closes it,
    so nested and overlapping spans stay unambiguous, and a numbered legend
    lists each span's technique, confidence and text. --json prints one JSON
    object per article instead. Among the lines of the plain report of the
    shipped example with every span shown (propscan analyze
    examples/harbour-bridge.txt --min-confidence 0 | cat), the first:

      \\[1:NC Reckless council bureaucrats]1 gamble our town's future
        \\[2:LL on a crumbling bridge]2
      ...
        1  NC     Name calling / labeling  0.61  “Reckless council bureaucrats”
        2  LL     Loaded language          0.41  “on a crumbling bridge”

    A span inside another keeps both markers: \\[1:LL \\[2:NC ...]2 gamble]1.

    A span's confidence is the calibrated probability that it is right;
    spans under the model's precision-first threshold ({threshold} for the
    shipped model) are counted but not shown unless --min-confidence goes
    lower.

    Inputs that cannot be read are reported on stderr, one line each, and
    the others are analyzed; the exit status is 1 when any failed.
    """
    from rich.console import Console

    from propscan.deliver.report import print_report
    from propscan.pipeline import analyze_many
    from propscan.readers import DEFAULT_MAX_BYTES, ReadFailure, iter_sources

    max_bytes = max_bytes or DEFAULT_MAX_BYTES
    failures = 0

    def readable_articles():
        nonlocal failures
        for item in iter_sources(paths, allow_private=allow_private, max_bytes=max_bytes):
            if isinstance(item, ReadFailure):
                failures += 1
                typer.echo(f"propscan: {item}", err=True)
            else:
                yield item

    console = Console(force_terminal=True) if colour else Console()
    try:
        for decoded in analyze_many(readable_articles()):
            analysis = decoded.shown(min_confidence)
            if json_output:
                sys.stdout.write(analysis.to_json() + "\n")
                sys.stdout.flush()
            else:
                print_report(analysis, console, colour=colour, hidden=len(decoded.spans) - len(analysis.spans))
    except BrokenPipeError:  # the reader of stdout (head, less) stopped early: not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    if failures:
        raise typer.Exit(1)


# Typer reads the docstring when the command line is parsed: the threshold is the shipped model's own.
analyze.__doc__ = (analyze.__doc__ or "").replace("{threshold}", SHIPPED_MIN_CONFIDENCE)


@app.command()
def predict(
    paths: Annotated[list[str], typer.Argument(help="Article files (article<ID>.txt) or folders of them.")],
    task: Annotated[Literal["si", "tc", "flc"], typer.Option(
        help="si: propaganda spans; flc: spans with their technique; tc: a technique for each span of --spans.")],
    spans: Annotated[str | None, typer.Option(
        "--spans", help="Task tc: the spans to classify, a template (ID ? start end) or a label file.")] = None,
    output: Annotated[str | None, typer.Option("-o", "--output", help="Write the labels here, not to stdout.")] = None,
) -> None:
    """Predict SemEval-2020 Task 11 labels for articles, as the task's tab-separated files."""
    from propscan.deliver.semeval import predict_labels
    from propscan.readers import read_source
    from propscan.readers.ptc import format_labels, read_labels

    if (task == "tc") != (spans is not None):
        raise fail("--spans TEMPLATE is needed with --task tc, and only there")
    try:
        articles = [article for path in paths for article in read_source(path)]
        template = None
        if spans is not None:
            template = read_labels(spans, articles={a.id: a for a in articles}, template=True)
        text = format_labels(predict_labels(articles, task, template=template))
    except PropscanError as e:
        raise fail(str(e)) from None
    if output is None:
        sys.stdout.write(text)
        return
    try:
        with open(output, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
    except OSError as e:
        raise fail(f"{output}: {e.strerror or 'cannot be written'}") from None


@app.command()
def evaluate(
    task: Annotated[Literal["si", "tc", "flc"], typer.Option(help="The SemEval-2020 Task 11 task to score.")],
    gold: Annotated[str, typer.Option(help="Gold labels: a label file or a folder of *.labels files.")],
    pred: Annotated[str, typer.Option(help="Predicted labels, as written by propscan predict.")],
    json_output: Annotated[bool, typer.Option(
        "--json", help='Print {"precision", "recall", "f1", "per_technique"} as JSON.')] = False,
) -> None:
    """Score predicted labels against gold ones with the SemEval-2020 Task 11 metrics."""
    import json

    from propscan.deliver.semeval import evaluate_files

    try:
        score = evaluate_files(task, gold, pred)
    except PropscanError as e:
        raise fail(str(e)) from None
    if json_output:
        typer.echo(json.dumps(score.to_dict()))
        return
    typer.echo(f"precision  {score.precision:.6f}\nrecall     {score.recall:.6f}\nF1         {score.f1:.6f}")
    if score.per_technique:
        typer.echo("F1 per technique:")
        width = max(len(name) for name in score.per_technique)
        for name, technique_score in score.per_technique.items():
            typer.echo(f"  {name:<{width}}  {technique_score.f1:.6f}")


@app.command()
def batch(
    inputs: Annotated[list[str], typer.Argument(help="Folders, article files, JSON Lines or CSV corpora, URL lists.")],
    db: Annotated[str | None, typer.Option(help="The SQLite store (default: the one `serve` uses).")] = None,
    workers: Annotated[int | None, typer.Option(
        help="Worker processes (default: one per core); with --dask local, the LocalCluster's.")] = None,
    dask: Annotated[str | None, typer.Option(
        help="Run on a Dask cluster: its scheduler address (tcp://host:8786), or 'local'.")] = None,
    allow_private: Annotated[bool, typer.Option(
        "--allow-private", help="Let URLs reach loopback, private and other non-public addresses.")] = False,
    max_bytes: Annotated[int | None, typer.Option(
        "--max-bytes", min=1, help="The largest input read, in bytes [default: 5000000].")] = None,
) -> None:
    """Analyze a corpus into the store; what is stored already is skipped, so a stopped run resumes.

    Each result is stored as it completes; inputs that fail are logged and recorded, the others go
    on, and the exit status is 1 when any failed.
    """
    from propscan.batch import progress_for, run_batch
    from propscan.store import Store

    try:
        with Store(db) as store:
            store.check_integrity()
            store.check_writable()
            report = run_batch(inputs, store, workers=workers, dask=dask, progress=progress_for(),
                               allow_private=allow_private, max_bytes=max_bytes)
    except PropscanError as e:
        raise fail(str(e)) from None
    typer.echo(f"{report.stored} stored, {report.skipped} already stored, {report.failed} failed "
               f"in {report.seconds:.1f}s")
    if report.failed:
        raise typer.Exit(1)


@app.command()
def stats(
    db: Annotated[str | None, typer.Option(help="The SQLite store (default: the one `serve` uses).")] = None,
    by: Annotated[Literal["source", "technique", "month"] | None, typer.Option(
        help="Show one grouping (default: all three).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the statistics as one JSON object.")] = False,
    plot: Annotated[str | None, typer.Option(help="Also draw the charts into FILE.png or FILE.svg.")] = None,
) -> None:
    """Statistics of a stored corpus: techniques per sentence, per technique, per source, per month."""
    from rich.console import Console

    from propscan.stats import plot_stats, stats_tables, store_stats
    from propscan.store import Store

    try:
        with Store(db) as store:
            corpus = store_stats(store)
        if plot:
            plot_stats(corpus, plot, by)
    except PropscanError as e:
        raise fail(str(e)) from None
    if json_output:
        typer.echo(corpus.model_dump_json(indent=2))
        return
    console = Console()
    for table in stats_tables(corpus, by):
        console.print(table)
    if plot:
        typer.echo(f"charts written to {plot}")


@app.command()
def export(
    fmt: Annotated[Literal["jsonl", "csv", "semeval", "label-studio"], typer.Option(
        "--format", help="jsonl, csv (one row per article), semeval (FLC labels) or label-studio (tasks).")],
    db: Annotated[str | None, typer.Option(help="The SQLite store (default: the one `serve` uses).")] = None,
    output: Annotated[str | None, typer.Option("-o", "--output", help="The file to write (default: stdout).")] = None,
) -> None:
    """Export every stored analysis; label-studio also writes its labeling config beside -o FILE."""
    from propscan.deliver.export import export as export_analyses
    from propscan.deliver.export import label_config_path, label_studio_config, replacing_file
    from propscan.store import Store

    try:
        with Store(db) as store:
            if output is None:
                export_analyses(store.iter_analyses(), fmt, sys.stdout)
                return
            with replacing_file(output) as out:
                n = export_analyses(store.iter_analyses(), fmt, out)
            if fmt == "label-studio":
                config = label_config_path(output)
                with replacing_file(config) as out:
                    out.write(label_studio_config())
                typer.echo(f"labeling config written to {config}", err=True)
    except BrokenPipeError:  # the reader of stdout (head, less) stopped early: not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    except OSError as e:
        raise fail(f"{e.filename or output}: {e.strerror or 'cannot be written'}") from None
    except PropscanError as e:
        raise fail(str(e)) from None
    typer.echo(f"{n} analyses exported to {output}", err=True)


@app.command()
def train(
    data: Annotated[Path, typer.Option(help="Folder holding ptc/ (PTC articles and labels) and fnc1/ (FNC-1 CSVs).")]
    = Path("../shared/data"),
    out: Annotated[Path, typer.Option(help="Where to write the model files (default: the shipped ones); with "
                                           "--cv, the run folder (default: runs/cv).")]
    = None,
    only: Annotated[str | None, typer.Option(help="Train only 'propaganda' or only 'stance'.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed for the folds and the training.")] = 13,
    epochs: Annotated[int | None, typer.Option(help="Fine-tuning epochs of the propaganda model.")] = None,
    self_training: Annotated[bool, typer.Option(
        "--self-training/--no-self-training",
        help="Train the propaganda network on the gold articles plus unlabeled articles labeled by a first "
             "network, as the shipped model was (about twice as long), or on the gold articles only.")] = True,
    cv: Annotated[int | None, typer.Option(
        "--cv", help="Instead, the K-fold cross-validated evaluation of the propaganda model (K=5 is the "
                     "project's): each fold's network, the final network on every article, the decoding and "
                     "calibration chosen out-of-fold and every figure. Hours on 2 CPU cores; resumable (rerun "
                     "the same command to go on), and a second copy of the command started beside the first "
                     "(OMP_NUM_THREADS=1 for each) shares the work. --out names its run folder (default "
                     "runs/cv); OUT/final is then the model folder to ship.")] = None,
    tuned: Annotated[Path | None, typer.Option(
        help="The cross-validated run's figures whose decoding and calibration the trained propaganda model "
             "takes (default: the shipped propaganda-figures.json; a run's is OUT/final/propaganda-figures.json).")]
    = None,
) -> None:
    """Train the shipped models from the PTC and FNC-1 data (2 CPU cores, under 2 hours) and write the model card."""
    import json
    import logging

    from propscan.detect.detector import WEIGHTS_DIR
    from propscan.training import train_shipped_models
    from propscan.training.propaganda import TrainSettings

    if only not in (None, "propaganda", "stance"):
        raise fail("--only must be 'propaganda' or 'stance'")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if cv is not None:
        if only is not None:
            raise fail("--cv evaluates the propaganda model only; leave out --only")
        from propscan.training.crossval import cross_validate
        from propscan.training.propaganda import silver_files

        settings = TrainSettings(seed=seed, self_training=self_training, **({"epochs": epochs} if epochs else {}))
        try:
            figures = cross_validate(data / "ptc", out or Path("runs/cv"), cv, settings,
                                     silver=silver_files(data))
        except PropscanError as e:
            raise fail(str(e)) from None
        typer.echo(json.dumps(figures["summary"], indent=2))
        return
    try:
        results = train_shipped_models(data, out or WEIGHTS_DIR, seed=seed, epochs=epochs, only=only,
                                       self_training=self_training, tuned=tuned)
    except PropscanError as e:
        raise fail(str(e)) from None
    # The propaganda model's figures are its cross-validated run's (their summary is shown); the stance
    # model's are measured by this training.
    summary = {name: {k: v for k, v in figures.items()
                      if (k in ("summary", "training_seconds", "train_articles", "silver_articles")
                          if name == "propaganda" else not k.endswith("_articles"))}
               for name, figures in results.items()}
    typer.echo(json.dumps(summary, indent=2, default=float))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on; anything but loopback (e.g. 0.0.0.0) exposes the "
                                      "app to the network and needs --token (or --no-auth).")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (1-65535).")] = 8000,
    db: Annotated[str | None, typer.Option(help="SQLite file of stored analyses (default: in the user's data "
                                           "directory).")] = None,
    max_body: Annotated[int, typer.Option("--max-body", help="Largest request body accepted, in bytes.")]
    = 2_000_000,
    allow_private: Annotated[bool, typer.Option(
        "--allow-private", help="Let submitted URLs reach loopback, private and other non-public addresses.")]
    = False,
    token: Annotated[str | None, typer.Option(
        "--token", envvar="PROPSCAN_TOKEN", show_envvar=True,
        help="A secret that API clients send as 'Authorization: Bearer TOKEN' and that the page asks for once; "
        "prefer the environment variable, which other users of the machine cannot see.")] = None,
    public_read: Annotated[bool, typer.Option(
        "--public-read", help="With a token: let anyone read (GET); analyzing and deleting still need it.")] = False,
    allowed_host: Annotated[list[str] | None, typer.Option(
        "--allowed-host", help="Another name the server answers to (the Host header), e.g. its DNS name or "
        "LAN address; repeat for more. Loopback names and --host are always served.")] = None,
    no_auth: Annotated[bool, typer.Option(
        "--no-auth", help="Serve a non-loopback --host without a token: anyone who reaches it can read and "
        "delete every stored analysis.")] = False,
) -> None:
    """Serve the web page and the JSON API (docs at /docs) that analyze and store articles."""
    from propscan.detect import check_models
    from propscan.web.app import check_exposure
    from propscan.web.app import serve as run_server

    if not 1 <= port <= 65535:
        raise fail(f"--port must be between 1 and 65535 (got {port})")
    if max_body < 1:
        raise fail("--max-body must be a positive number of bytes")
    token = token or None  # an empty PROPSCAN_TOKEN means no token
    if token is not None and not token.strip():
        raise fail("--token is blank; give a secret, or leave it out")
    if token is not None and no_auth:
        raise fail("--no-auth and a token contradict each other; give one of them")
    for name in allowed_host or ():
        if not name.strip() or any(c in name for c in "/@ \t") or name.count(":") == 1 and not name.startswith("["):
            raise fail(f"--allowed-host takes a host name or address such as scan.example.org, not {name!r}")
    if public_read and token is None:
        raise fail("--public-read needs a token (--token or PROPSCAN_TOKEN): without one everything is open")
    try:
        check_exposure(host, token, no_auth)
        check_models()  # one line now, rather than a traceback from the server's start-up
        run_server(host=host, port=port, db_path=db, max_body_bytes=max_body, allow_private_urls=allow_private,
                   token=token, public_read=public_read, allowed_hosts=allowed_host or (), no_auth=no_auth)
    except PropscanError as e:
        raise fail(str(e)) from None


@app.command()
def stance(
    stances_csv: Annotated[Path, typer.Argument(help="FNC-1 stances file: Headline, Body ID (a Stance column "
                                                "is ignored).")],
    bodies_csv: Annotated[Path, typer.Argument(help="FNC-1 bodies file: Body ID, articleBody.")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Write the CSV here instead of stdout.")] = None,
) -> None:
    """Predict the FNC-1 stance (agree, disagree, discuss, unrelated) of each body towards its headline."""
    from propscan.stance.fnc1 import predict_csv

    try:
        n = predict_csv(stances_csv, bodies_csv, out)
    except OSError as e:
        raise fail(f"{e.filename or out}: {e.strerror or 'cannot be written'}") from None
    except PropscanError as e:
        raise fail(str(e)) from None
    if out is not None:
        typer.echo(f"{n} stances written to {out}", err=True)


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
