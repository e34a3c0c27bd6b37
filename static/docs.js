// Swagger UI for /openapi.json, started from a file so the page needs no inline script.
window.addEventListener("DOMContentLoaded", () => {
  window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" });
});
