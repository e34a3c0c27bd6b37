// Convscope's own script: small, no framework. htmx does the requests; this keeps the
// visible values of sliders in step with them while the server answer is on its way.
document.addEventListener("input", (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && input.type === "range") {
    const out = document.getElementById(input.id + "-value");
    if (out) out.textContent = input.value;
  }
});

// "Copy" buttons copy the text of the element named in data-copy.
document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("button.copy");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.value !== undefined ? source.value : source.textContent)
    .then(() => { button.textContent = "Copied"; }, () => { button.textContent = "Select and copy"; });
});
