// Convscope's own script: small, no framework. htmx does the requests; this keeps the
// visible values of sliders in step with them while the server answer is on its way.
document.addEventListener("input", (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && input.type === "range") {
    const out = document.getElementById(input.id + "-value");
    if (out) out.textContent = input.value;
  }
});
