"""The web app and REST API behind ``propscan serve``: a thin shell over the pipeline and the store.

``create_app`` builds one FastAPI app around one ``Store``. The JSON contract is the pydantic models
of ``propscan.document`` (shown at ``/docs``); the pages are server-rendered Jinja2 with one small
script. Analysis runs in a worker thread, one article at a time through the shared detector, so the
event loop keeps answering while the model works.
"""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, File, Form, Query, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from propscan.document import Analysis, Article, Source
from propscan.errors import PropscanError
from propscan.store import Store, StoredSummary, content_hash
from propscan.taxonomy import TECHNIQUES
from propscan.web import view

DEFAULT_MAX_BODY_BYTES = 2_000_000
HERE = Path(__file__).parent
# The detector is shared by the whole process; one article at a time keeps memory flat and
# leaves the other cores to the server.
_MODEL_LOCK = threading.Lock()
# Article text is untrusted: pages run only our own script and styles.
_PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
             "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class AnalyzeRequest(BaseModel):
    """One article to analyze: exactly one of ``text``, ``url`` or ``html``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"text": "Latin America's US puppets beg Russia to stop helping Venezuela\n\nLIMA, Peru - ..."}]})

    text: str | None = Field(None, description="The article as plain text; the first line is its title.")
    url: str | None = Field(None, description="An http(s) URL to fetch (public addresses only).")
    html: str | None = Field(None, description="The article's web page as HTML.")
    title: str | None = Field(None, description="The title, when the text's first line is not it.")
    source: str | None = Field(None, description="Where the article came from: a URL or a site name.")

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


def create_app(db_path: str | Path | None = None, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, *,
               allow_private_urls: bool = False) -> FastAPI:
    """The app around the store at ``db_path`` (None: the user's data directory).

    ``allow_private_urls`` lets submitted URLs reach loopback and private addresses, like the CLI's
    ``--allow-private``; by default they are refused.
    """
    store = Store(db_path)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from propscan.models import load_detector

        await run_in_threadpool(load_detector)  # load the model once, before the first request
        yield
        store.close()

    app = FastAPI(
        title="propscan", version=_version(), lifespan=lifespan, docs_url=None, redoc_url=None,
        description="Find propaganda techniques (SemEval-2020 Task 11) in news articles. "
        "Analyses are stored and can be listed, searched and deleted.",
        responses={400: {"model": ErrorMessage, "description": "The input cannot be analyzed"},
                   413: {"model": ErrorMessage, "description": "The request body is too large"},
                   422: {"model": ErrorMessage, "description": "The request is malformed"}},
    )
    app.state.store = store
    app.add_middleware(BodyLimit, max_body_bytes=max_body_bytes)
    templates = Jinja2Templates(directory=HERE / "templates")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _mount_docs(app)

    async def analyze_article(article: Article) -> StoredAnalysis:
        return await run_in_threadpool(_analyze_and_store, store, article)

    async def read_request(body: AnalyzeRequest) -> Article:
        source = _source_from(body.source)
        if body.url is not None:
            article = await run_in_threadpool(_read_url, body.url, allow_private_urls)
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

    # -- errors: one JSON shape, {"error": "..."} ----------------------------------------------

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
        return await analyze_article(await read_request(body))

    @app.get("/api/analyses", response_model=list[StoredSummary], tags=["analyses"])
    async def api_list(q: Annotated[str | None, Query(description="Words of the title or text")] = None,
                       limit: Annotated[int, Query(ge=1, le=500)] = 50,
                       offset: Annotated[int, Query(ge=0)] = 0) -> list[StoredSummary]:
        """Stored analyses, newest first, optionally only those matching every word of ``q``."""
        return await run_in_threadpool(store.search, q, limit, offset)

    @app.get("/api/analyses/{id}", response_model=StoredAnalysis, tags=["analyses"],
             responses={404: {"model": ErrorMessage}})
    async def api_get(id: str) -> StoredAnalysis:
        return _stored(id, await run_in_threadpool(store.get, id))

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

    @app.get("/healthz", response_model=Health, tags=["service"])
    async def healthz() -> Health:
        return Health(status="ok", stored=await run_in_threadpool(store.count))

    # -- pages -------------------------------------------------------------------------------

    def page(request: Request, name: str, context: dict, status_code: int = 200) -> HTMLResponse:
        response = templates.TemplateResponse(request, name, context, status_code=status_code)
        response.headers["Content-Security-Policy"] = _PAGE_CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index(request: Request) -> HTMLResponse:
        return page(request, "index.html", {"form": {}, "error": None})

    @app.post("/analyze", response_class=HTMLResponse, include_in_schema=False)
    async def analyze_form(request: Request, text: Annotated[str, Form()] = "", url: Annotated[str, Form()] = "",
                           title: Annotated[str, Form()] = "",
                           file: Annotated[UploadFile | None, File()] = None) -> Response:
        form = {"text": text, "url": url, "title": title}
        try:
            article = await read_request(await _form_request(text, url, title, file))
            if file is not None and file.filename:
                article = article.model_copy(update={"source": article.source.model_copy(
                    update={"path": file.filename})})
            stored = await analyze_article(article)
        except PropscanError as e:
            return page(request, "index.html", {"form": form, "error": str(e)}, status_code=400)
        return RedirectResponse(f"/analyses/{stored.id}", status_code=303)

    @app.get("/analyses", response_class=HTMLResponse, include_in_schema=False)
    async def list_page(request: Request, q: str = "", page_number: Annotated[int, Query(alias="page", ge=1)] = 1):
        per_page = 50
        items = await run_in_threadpool(store.search, q, per_page + 1, (page_number - 1) * per_page)
        return page(request, "list.html", {"q": q, "items": items[:per_page], "page": page_number,
                                           "has_more": len(items) > per_page})

    @app.get("/analyses/{id}", response_class=HTMLResponse, include_in_schema=False)
    async def analysis_page(request: Request, id: str):
        analysis = await run_in_threadpool(store.get, id)
        if analysis is None:
            return page(request, "missing.html", {"id": id}, status_code=404)
        return page(request, "analysis.html", {
            "id": id, "a": analysis, "segments": view.segments(analysis), "data": view.page_data(analysis),
            "counts": view.technique_counts(analysis), "bars": view.sentence_bars(analysis),
            "removed": view.removed_pieces(analysis), "techniques": TECHNIQUES,
        })

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

    return app


def _analyze_and_store(store: Store, article: Article) -> StoredAnalysis:
    """Analyze and store an article, or return the stored analysis of the same text."""
    from propscan.pipeline import analyze_many

    stored_id = store.id_for(content_hash(article.text))
    if stored_id is None:
        with _MODEL_LOCK:
            analysis = next(analyze_many([article]))
        stored_id, _ = store.add(analysis)
    return _stored(stored_id, store.get(stored_id))


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


async def _form_request(text: str, url: str, title: str, file: UploadFile | None) -> AnalyzeRequest:
    """The page's form as an API request: exactly one of pasted text, an uploaded file or a URL."""
    from propscan.readers.html import decode_html
    from propscan.readers.text import decode

    given: dict[str, str] = {}
    if text.strip():
        given["text"] = text
    if url.strip():
        given["url"] = url.strip()
    if file is not None and file.filename:
        suffix = Path(file.filename).suffix.lower()
        if suffix not in (".txt", ".html", ".htm"):
            raise PropscanError("upload a .txt or .html file", source=file.filename)
        kind = "text" if suffix == ".txt" else "html"
        if kind in given:
            given["several"] = ""
        data = await file.read()
        given[kind] = decode(data, file.filename) if kind == "text" else decode_html(data, file.filename)
    if not given:
        raise PropscanError("paste an article, choose a file or give a URL")
    if len(given) > 1:
        raise PropscanError("give one article: pasted text, a file or a URL, not several")
    return AnalyzeRequest(**given, title=title.strip() or None)


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
    """Swagger UI at /docs from the files of the swagger-ui-bundle package, so no CDN is needed."""
    import swagger_ui_bundle

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="propscan API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("propscan")
    except PackageNotFoundError:
        return "0"


def serve(host: str = "127.0.0.1", port: int = 8000, db_path: str | Path | None = None,
          max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, *, allow_private_urls: bool = False) -> None:
    """Run the app with uvicorn until interrupted (what ``propscan serve`` does)."""
    import uvicorn

    app = create_app(db_path, max_body_bytes, allow_private_urls=allow_private_urls)
    print(f"propscan: store {app.state.store.path}; open http://{host}:{port}/ (API docs at /docs)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="info")
