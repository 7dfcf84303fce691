// Swagger UI for /docs, set up from a file rather than an inline script so the page's
// Content-Security-Policy (script-src 'self') needs no exception. The bundled Swagger UI reads
// OpenAPI 3.0, hence the 3.0 rendering of the schema at /docs/openapi.json.
"use strict";

window.ui = SwaggerUIBundle({
  url: "/docs/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  validatorUrl: null,
});
