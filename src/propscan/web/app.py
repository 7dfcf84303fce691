"""The web app and REST API behind ``propscan serve``: a thin shell over the pipeline and the store.

``create_app`` builds one FastAPI app around one ``Store``. The JSON contract is the pydantic models
of ``propscan.document`` (shown at ``/docs``); the pages are server-rendered Jinja2 with one small
script. Reading, cleaning and analysis run in worker threads (at most ``ANALYSIS_THREADS`` at once,
one article at a time through the shared detector), and so does every store call, so the event
loop keeps answering ``/healthz`` and the other requests while a slow article is worked on.

Access control (a token, the served host names, same-origin writes, security headers) is
``propscan.web.guard``. A store that cannot be read or written answers 503 with what is wrong.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import anyio
import anyio.to_thread
from fastapi import FastAPI, File, Form, Query, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from propscan.document import Analysis, Article, Source
from propscan.errors import PropscanError
from propscan.store import Store, StoredSummary, StoreError, content_hash
from propscan.taxonomy import TECHNIQUES
from propscan.web import view
from propscan.web.guard import (
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    Access,
    Guard,
    host_name,
    is_loopback,
    safe_next,
    served_hosts,
)

DEFAULT_MAX_BODY_BYTES = 2_000_000
HERE = Path(__file__).parent
# Worker threads that read and analyze submitted articles at once. They have their own limit so
# that slow articles queue among themselves and the default thread pool stays free for the quick
# store reads of /healthz and the pages.
ANALYSIS_THREADS = 4
# The largest offset a listing accepts: far beyond any store, and far inside SQLite's 64-bit integers.
MAX_OFFSET = 1_000_000_000
PER_PAGE = 50
# The detector is shared by the whole process; one article at a time keeps memory flat and
# leaves the other cores to the server.
_MODEL_LOCK = threading.Lock()
T = TypeVar("T")


class AnalyzeRequest(BaseModel):
    """One article to analyze: exactly one of ``text``, ``url`` or ``html``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"text": "Latin America's US puppets beg Russia to stop helping Venezuela\n\nLIMA, Peru - ..."}]})

    text: str | None = Field(None, description="The article as plain text; the first line is its title.")
    url: str | None = Field(None, description="An http(s) URL to fetch (public addresses only).")
    html: str | None = Field(None, description="The article's web page as HTML.")
    title: str | None = Field(None, description="The title, when the text's first line is not it.")
    source: str | None = Field(None, description="Where the article came from: a URL or a site name.")
    min_confidence: float | None = Field(None, ge=0.0, le=1.0, description=(
        "Show spans from this confidence on (the calibrated probability that a span is right); default: "
        "the model's precision-first threshold. Every decoded span is stored, so a lower value shows more."))

    @field_validator("text", "url", "html", "title", "source")
    @classmethod
    def _is_unicode_text(cls, value: str | None) -> str | None:
        # JSON may carry a lone UTF-16 surrogate (\ud800), which no text encoding can write; refuse
        # it here rather than fail when the analysis is hashed, stored or sent back.
        if value is not None:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as e:
                raise ValueError(f"has a lone surrogate at character {e.start}, which is not text") from None
        return value

    @model_validator(mode="after")
    def _one_input(self) -> AnalyzeRequest:
        given = [name for name in ("text", "url", "html") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of text, url or html (got {', '.join(given) or 'none'})")
        return self


class StoredAnalysis(Analysis):
    """An analysis as stored: ``id`` is the stored id (for /api/analyses/{id}), ``article_id`` the article's own."""

    article_id: str


class TechniqueInfo(BaseModel):
    id: str
    name: str
    definition: str
    example: str
    colour: str


class ErrorMessage(BaseModel):
    error: str


class Health(BaseModel):
    status: str
    stored: int


class Unavailable(BaseModel):
    status: str
    error: str


def create_app(db_path: str | Path | None = None, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, *,
               allow_private_urls: bool = False, token: str | None = None, public_read: bool = False,
               allowed_hosts: Iterable[str] | None = None, trusted_origins: Iterable[str] = ()) -> FastAPI:
    """The app around the store at ``db_path`` (None: the user's data directory).

    ``allow_private_urls`` lets submitted URLs reach loopback and private addresses, like the CLI's
    ``--allow-private``; by default they are refused. ``token``, ``public_read``, ``allowed_hosts``
    and ``trusted_origins`` are the ``propscan.web.guard.Access`` the app enforces; the defaults
    leave it open and do not check the Host header (``serve`` always checks it).
    """
    if token is not None and not token.strip():
        raise PropscanError("the token is empty; give a secret of at least one character")
    access = Access(token=token, public_read=public_read,
                    allowed_hosts=frozenset(allowed_hosts) if allowed_hosts is not None else None,
                    trusted_origins=frozenset(n for n in map(host_name, trusted_origins) if n))
    store = Store(db_path)
    limiter: anyio.CapacityLimiter | None = None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from propscan.detect import load_detector

        nonlocal limiter
        limiter = anyio.CapacityLimiter(ANALYSIS_THREADS)
        await run_in_threadpool(load_detector)  # load the model once, before the first request
        yield
        store.close()

    app = FastAPI(
        title="propscan", version=_version(), lifespan=lifespan, docs_url=None, redoc_url=None,
        description="Find propaganda techniques (SemEval-2020 Task 11) in news articles. "
        "Analyses are stored and can be listed, searched and deleted.",
        responses={400: {"model": ErrorMessage, "description": "The input cannot be analyzed"},
                   401: {"model": ErrorMessage, "description": "The server has a token and the request has not"},
                   403: {"model": ErrorMessage, "description": "A browser request from another site"},
                   413: {"model": ErrorMessage, "description": "The request body is too large"},
                   422: {"model": ErrorMessage, "description": "The request is malformed"},
                   503: {"model": ErrorMessage, "description": "The store cannot be read or written"}},
    )
    app.state.store = store
    app.state.access = access
    app.add_middleware(BodyLimit, max_body_bytes=max_body_bytes)
    app.add_middleware(Guard, access=access)  # outermost: refusals and headers cover every response
    templates = Jinja2Templates(directory=HERE / "templates")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _mount_docs(app)

    async def in_analysis_thread(function: Callable[..., T], *args: object) -> T:
        return await anyio.to_thread.run_sync(function, *args, limiter=limiter)

    async def analyze_request(body: AnalyzeRequest, path: str | None = None) -> StoredAnalysis:
        stored = await in_analysis_thread(_read_analyze_store, store, body, allow_private_urls, path)
        return stored.shown(body.min_confidence)

    # -- errors: one JSON shape, {"error": "..."} ----------------------------------------------

    @app.exception_handler(StoreError)
    async def _store_error(request: Request, exc: StoreError) -> Response:
        return JSONResponse({"error": str(exc)}, status_code=503)

    @app.exception_handler(PropscanError)
    async def _propscan_error(request: Request, exc: PropscanError) -> Response:
        return JSONResponse({"error": str(exc)}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                    for e in exc.errors()]
        message = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in problems)
        return JSONResponse(jsonable_encoder({"error": message or "invalid request", "detail": problems}),
                            status_code=422)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    # -- API ---------------------------------------------------------------------------------

    @app.post("/api/analyze", response_model=StoredAnalysis, tags=["analyses"])
    async def api_analyze(body: AnalyzeRequest) -> StoredAnalysis:
        """Analyze an article (text, URL or HTML) and store it; the same text is stored once."""
        return await analyze_request(body)

    @app.get("/api/analyses", response_model=list[StoredSummary], tags=["analyses"])
    async def api_list(q: Annotated[str | None, Query(description="Words of the title or text")] = None,
                       limit: Annotated[int, Query(ge=1, le=500)] = 50,
                       offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0) -> list[StoredSummary]:
        """Stored analyses, newest first, optionally only those matching every word of ``q``."""
        return await run_in_threadpool(store.search, q, limit, offset)

    @app.get("/api/analyses/{id}", response_model=StoredAnalysis, tags=["analyses"],
             responses={404: {"model": ErrorMessage}})
    async def api_get(id: str, min_confidence: Annotated[float | None, Query(
            ge=0.0, le=1.0, description="Show spans from this confidence on (default: the model's threshold)")] = None,
    ) -> StoredAnalysis:
        return _stored(id, await run_in_threadpool(store.get, id)).shown(min_confidence)

    @app.delete("/api/analyses/{id}", status_code=204, tags=["analyses"], responses={404: {"model": ErrorMessage}})
    async def api_delete(id: str) -> Response:
        if not await run_in_threadpool(store.delete, id):
            raise HTTPException(404, f"no stored analysis with id {id}")
        return Response(status_code=204)

    @app.get("/api/techniques", response_model=list[TechniqueInfo], tags=["techniques"])
    async def api_techniques() -> list[TechniqueInfo]:
        """The 14 techniques of SemEval-2020 Task 11, with the colours the page uses."""
        return [TechniqueInfo(id=t.id, name=t.name, definition=t.definition, example=t.example, colour=t.colour)
                for t in TECHNIQUES]

    @app.get("/healthz", response_model=Health, tags=["service"],
             responses={503: {"model": Unavailable, "description": "The store cannot be read"}})
    async def healthz() -> Response:
        """Whether the server answers and its store can be read, and how many analyses it holds."""
        try:
            stored = await run_in_threadpool(store.check)
        except StoreError as e:
            return JSONResponse({"status": "unavailable", "error": str(e)}, status_code=503)
        return JSONResponse(Health(status="ok", stored=stored).model_dump())

    # -- pages -------------------------------------------------------------------------------

    def page(request: Request, name: str, context: dict, status_code: int = 200) -> HTMLResponse:
        return templates.TemplateResponse(request, name, {"login": access.token is not None, **context},
                                          status_code=status_code)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index(request: Request) -> HTMLResponse:
        return page(request, "index.html", {"form": {}, "error": None})

    @app.post("/analyze", response_class=HTMLResponse, include_in_schema=False)
    async def analyze_form(request: Request, text: Annotated[str, Form()] = "", url: Annotated[str, Form()] = "",
                           title: Annotated[str, Form()] = "",
                           file: Annotated[UploadFile | None, File()] = None) -> Response:
        form = {"text": text, "url": url, "title": title}
        try:
            upload = (file.filename, await file.read()) if file is not None and file.filename else None
            body = await in_analysis_thread(_form_request, text, url, title, upload)
            stored = await analyze_request(body, upload[0] if upload else None)
        except StoreError:
            raise
        except PropscanError as e:
            return page(request, "index.html", {"form": form, "error": str(e)}, status_code=400)
        return RedirectResponse(f"/analyses/{stored.id}", status_code=303)

    @app.get("/analyses", response_class=HTMLResponse, include_in_schema=False)
    async def list_page(request: Request, q: str = "",
                        page_number: Annotated[int, Query(alias="page", ge=1, le=MAX_OFFSET // PER_PAGE)] = 1):
        items = await run_in_threadpool(store.search, q, PER_PAGE + 1, (page_number - 1) * PER_PAGE)
        return page(request, "list.html", {"q": q, "items": items[:PER_PAGE], "page": page_number,
                                           "has_more": len(items) > PER_PAGE})

    @app.get("/analyses/{id}", response_class=HTMLResponse, include_in_schema=False)
    async def analysis_page(request: Request, id: str):
        analysis = await run_in_threadpool(store.get, id)
        if analysis is None:
            return page(request, "missing.html", {"id": id}, status_code=404)

        def render() -> HTMLResponse:  # a long article's page takes a while: not on the event loop
            return page(request, "analysis.html", {
                "id": id, "a": analysis, "segments": view.segments(analysis), "data": view.page_data(analysis),
                "counts": view.technique_counts(analysis), "bars": view.sentence_bars(analysis),
                "removed": view.removed_pieces(analysis), "techniques": TECHNIQUES,
            })

        return await run_in_threadpool(render)

    @app.get("/stats", response_class=HTMLResponse, include_in_schema=False)
    async def stats_page(request: Request, q: str = "", outlet: str = "",
                         date_from: Annotated[str, Query(alias="from")] = "",
                         date_to: Annotated[str, Query(alias="to")] = "") -> HTMLResponse:
        from propscan.stats import store_outlet_report
        from propscan.web.charts import page_context

        form = {"q": q, "outlet": outlet, "from": date_from, "to": date_to}
        context = {"form": form, "colours": {t.id: t.colour for t in TECHNIQUES},
                   "names": {t.id: t.name for t in TECHNIQUES}, "r": None, "error": None,
                   "outlet_options": [outlet] if outlet else []}
        try:
            report = await run_in_threadpool(lambda: store_outlet_report(
                store, q=q, outlet=outlet, date_from=date_from, date_to=date_to))
        except StoreError:
            raise  # the store, not the filters: 503 like every data route
        except PropscanError as e:
            return page(request, "stats.html", {**context, "error": str(e)}, status_code=400)
        options = report.outlets if not outlet or outlet in report.outlets else [outlet, *report.outlets]
        return page(request, "stats.html", {**context, **page_context(report), "outlet_options": options})

    from propscan.stats import OutletReport  # here, beside the only route whose schema needs it

    # Annotations are strings here (__future__), so the route's parameters name no local variables.
    @app.get("/api/stats", response_model=OutletReport, tags=["statistics"])
    async def api_stats(
        q: Annotated[str | None, Query(description="Words of the title or text, as /api/analyses")] = None,
        outlet: Annotated[str | None, Query(description="One outlet's profile (else the largest)")] = None,
        date_from: Annotated[str | None, Query(alias="from", description="YYYY-MM or YYYY-MM-DD, included")] = None,
        date_to: Annotated[str | None, Query(alias="to", description="YYYY-MM or YYYY-MM-DD, included")] = None,
    ):
        """What /stats shows: the selection's statistics, its months and the outlet profiles."""
        from propscan.stats import store_outlet_report

        return await run_in_threadpool(lambda: store_outlet_report(
            store, q=q, outlet=outlet, date_from=date_from, date_to=date_to))

    # -- the token, once per browser ---------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login_page(request: Request, next: str = "/") -> Response:
        if access.token is None:
            return RedirectResponse(safe_next(next), status_code=303)
        return page(request, "login.html", {"next": safe_next(next), "error": None})

    @app.post("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login(request: Request, token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/"):
        if access.token is None:
            return RedirectResponse(safe_next(next), status_code=303)
        if not access.token_matches(token):
            return page(request, "login.html", {"next": safe_next(next), "error": "That is not this server's token."},
                        status_code=401)
        response = RedirectResponse(safe_next(next), status_code=303)
        response.set_cookie(SESSION_COOKIE, access.session_value(), max_age=SESSION_MAX_AGE, path="/",
                            httponly=True, samesite="strict", secure=request.url.scheme == "https")
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout() -> Response:
        response = RedirectResponse("/login" if access.token is not None else "/", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response

    return app


def _read_analyze_store(store: Store, body: AnalyzeRequest, allow_private: bool,
                        path: str | None = None) -> StoredAnalysis:
    """Read the request's article, analyze it and store it, or answer the stored analysis of the same text.

    Runs in a worker thread: reading and cleaning can be as slow as the model on a hostile page.
    """
    article = _read_request(body, allow_private)
    if path is not None:
        article = article.model_copy(update={"source": article.source.model_copy(update={"path": path})})
    return _analyze_and_store(store, article)


def _read_request(body: AnalyzeRequest, allow_private: bool) -> Article:
    from propscan.readers.text import check_text

    # The same characters are refused here as in files and corpora (NUL, control characters), for
    # the fields that do not pass through a reader's own check.
    for name in ("html", "title", "source"):
        if getattr(body, name) is not None:
            check_text(getattr(body, name), field=name)
    source = _source_from(body.source)
    if body.url is not None:
        article = _read_url(body.url, allow_private)
    elif body.html is not None:
        article = _article_from_html(body.html, source.url)
    else:
        from propscan.readers import article_from_text

        article = article_from_text(body.text, source=Source(format="text"))
    updates: dict = {}
    if body.title is not None:
        updates["title"] = body.title
    if body.source is not None and body.url is None:
        updates["source"] = article.source.model_copy(update=source.model_dump(exclude_none=True))
    return article.model_copy(update=updates) if updates else article


def _analyze_and_store(store: Store, article: Article) -> StoredAnalysis:
    """Analyze and store an article, or return the stored analysis of the same text.

    The answer is the analysis as read or written in one store call, never read again afterwards,
    so a DELETE of the same text at the same moment cannot make it "not found".
    """
    from propscan.pipeline import analyze_many

    found = store.find(content_hash(article.text))
    if found is not None:
        return _stored(*found)
    with _MODEL_LOCK:
        analysis = next(analyze_many([article]))
    stored_id, stored, _ = store.add_or_get(analysis)
    return _stored(stored_id, stored)


def _stored(id: str, analysis: Analysis | None) -> StoredAnalysis:
    if analysis is None:
        raise HTTPException(404, f"no stored analysis with id {id}")
    return StoredAnalysis.model_validate({**analysis.model_dump(), "id": id, "article_id": analysis.id})


def _source_from(source: str | None) -> Source:
    if not source:
        return Source()
    if source.startswith(("http://", "https://")):
        return Source(url=source)
    return Source(site=source)


def _read_url(url: str, allow_private: bool) -> Article:
    from propscan.readers.url import read_url

    return read_url(url, allow_private=allow_private)


def _article_from_html(html: str, url: str | None) -> Article:
    from propscan.readers.html import article_from_html

    if not html.strip():
        raise PropscanError("the HTML is empty")
    return article_from_html(html, url=url)


def _form_request(text: str, url: str, title: str, upload: tuple[str, bytes] | None) -> AnalyzeRequest:
    """The page's form as an API request: exactly one of pasted text, an uploaded file or a URL."""
    from pydantic import ValidationError

    from propscan.readers.html import decode_html
    from propscan.readers.text import decode

    given: dict[str, str] = {}
    if text.strip():
        given["text"] = text
    if url.strip():
        given["url"] = url.strip()
    if upload is not None:
        filename, data = upload
        suffix = Path(filename).suffix.lower()
        if suffix not in (".txt", ".html", ".htm"):
            raise PropscanError("upload a .txt or .html file", source=filename)
        kind = "text" if suffix == ".txt" else "html"
        if kind in given:
            given["several"] = ""
        given[kind] = decode(data, filename) if kind == "text" else decode_html(data, filename)
    if not given:
        raise PropscanError("paste an article, choose a file or give a URL")
    if len(given) > 1:
        raise PropscanError("give one article: pasted text, a file or a URL, not several")
    try:
        return AnalyzeRequest(**given, title=title.strip() or None)
    except ValidationError as e:
        raise PropscanError("; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
                                      for err in e.errors())) from None


class BodyLimit:
    """Refuse request bodies over ``max_body_bytes`` with 413, before reading more than that.

    A declared Content-Length over the limit is refused at once; a chunked body is read up to the
    limit and refused as soon as it passes it. Accepted bodies are handed on unchanged.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                await self._refuse(send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        response = JSONResponse({"error": f"the request body is larger than {self.max_body_bytes} bytes"},
                                status_code=413, headers={"Connection": "close"})
        await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def _mount_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the files of the swagger-ui-bundle package, so no CDN is needed.

    The page is ours rather than FastAPI's so that it has no inline script: its setup is
    /static/docs.js, and the same Content-Security-Policy as every page applies. The bundled
    Swagger UI (4.x) reads OpenAPI 3.0 only, so it is given /docs/openapi.json, the same schema
    written in 3.0 terms; /openapi.json stays the 3.1 schema FastAPI makes.
    """
    import swagger_ui_bundle

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(_DOCS_PAGE)

    @app.get("/docs/openapi.json", include_in_schema=False)
    async def docs_schema() -> JSONResponse:
        return JSONResponse(openapi_30(app.openapi()))


def openapi_30(schema: dict) -> dict:
    """An OpenAPI 3.1 document as 3.0 says it, for viewers that read only 3.0.

    Covers what pydantic writes for these models: ``anyOf`` with ``{"type": "null"}`` becomes
    ``nullable``, and a JSON Schema ``examples`` list becomes one ``example``.
    """

    def convert(node: object, in_schema: bool) -> object:
        if isinstance(node, list):
            return [convert(item, in_schema) for item in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            child_is_schema = in_schema or key in ("schema", "schemas", "items", "properties",
                                                   "additionalProperties")
            out[key] = convert(value, child_is_schema if key != "properties" else True)
        if not in_schema:
            return out
        options = out.get("anyOf")
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            del out["anyOf"]
            if len(rest) == 1 and "$ref" not in rest[0]:
                out = {**rest[0], **out}
            elif len(rest) == 1:
                out["allOf"] = rest
            else:
                out["anyOf"] = rest
            out["nullable"] = True
        if isinstance(out.get("examples"), list):
            examples = out.pop("examples")
            if examples:
                out["example"] = examples[0]
        return out

    converted = convert(schema, False)
    assert isinstance(converted, dict)
    converted["openapi"] = "3.0.3"
    return converted


_DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>propscan API</title>
<link rel="stylesheet" href="/docs-assets/swagger-ui.css">
<link rel="icon" href="/docs-assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs-assets/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script>
</body>
</html>
"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("propscan")
    except PackageNotFoundError:
        return "0"


def check_exposure(host: str, token: str | None, no_auth: bool) -> None:
    """Refuse to serve beyond this machine without a token, unless ``no_auth`` says so knowingly."""
    if token is None and not no_auth and not is_loopback(host):
        raise PropscanError(f"--host {host} can be reached from other machines and no token is set: pass "
                            "--token TOKEN or set PROPSCAN_TOKEN (or pass --no-auth to serve it open knowingly)")


def serve(host: str = "127.0.0.1", port: int = 8000, db_path: str | Path | None = None,
          max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, *, allow_private_urls: bool = False,
          token: str | None = None, public_read: bool = False, allowed_hosts: Iterable[str] = (),
          no_auth: bool = False) -> None:
    """Run the app with uvicorn until interrupted (what ``propscan serve`` does).

    The Host header must be a loopback name, ``host`` itself, or one of ``allowed_hosts``.
    """
    import uvicorn

    check_exposure(host, token, no_auth)
    listener = _listen(host, port)
    extra = tuple(allowed_hosts)
    app = create_app(db_path, max_body_bytes, allow_private_urls=allow_private_urls, token=token,
                     public_read=public_read, allowed_hosts=served_hosts(host, extra), trusted_origins=extra)
    shown = f"[{host}]" if ":" in host else host
    access = "a token is needed" + (" to write and delete" if public_read else "") if token else "no token"
    print(f"propscan: store {app.state.store.path}; open http://{shown}:{port}/ (API docs at /docs); {access}",
          flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="info")).run(sockets=[listener])


def _listen(host: str, port: int):
    """A socket bound to ``host``:``port``, or one line that says why not (in use, not allowed, no such host).

    Bound before the model loads, so a port in use is reported at once and not as uvicorn's log.
    """
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as e:
        raise PropscanError(f"--host {host}: not an address of this machine ({e})") from None
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
    except OSError as e:
        listener.close()
        raise PropscanError(f"cannot listen on {host} port {port} ({e.strerror or e})") from None
    return listener
