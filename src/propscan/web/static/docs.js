// Swagger UI for /docs, set up from a file rather than an inline script so the page's
// Content-Security-Policy (script-src 'self') needs no exception.
"use strict";

window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  validatorUrl: null,
});
