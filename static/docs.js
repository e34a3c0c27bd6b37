// Swagger UI for the schema the page names (under the app's prefix), started from a file so the page
// needs no inline script.
window.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: box.dataset.openapi, dom_id: "#swagger-ui" });
});
