"""Checks a page's basics in the browser: every control named, text contrast per WCAG 2.1."""

from __future__ import annotations

# Collected in the page, judged here: the text colour and the first opaque background behind
# it of every visible element that holds text of its own, and every control without a name.
COLLECT = """() => {
  const parse = (value) => {
    const m = value.match(/rgba?\\(([\\d.]+),? ([\\d.]+),? ([\\d.]+)(?:,? \\/? ?([\\d.]+))?\\)/);
    return m ? [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]] : null;
  };
  const background = (element) => {
    for (let node = element; node && node.nodeType === 1; node = node.parentElement) {
      const colour = parse(getComputedStyle(node).backgroundColor);
      if (colour && colour[3] > 0.5) { return colour; }
    }
    return [255, 255, 255, 1];
  };
  const texts = [];
  for (const element of document.body.querySelectorAll("*")) {
    if (element.closest("svg, .chart, [hidden], option")) { continue; }
    const own = Array.from(element.childNodes)
      .filter((node) => node.nodeType === 3).map((node) => node.textContent.trim()).join("");
    if (!own) { continue; }
    const style = getComputedStyle(element);
    const box = element.getBoundingClientRect();
    if (style.visibility === "hidden" || box.width === 0 || box.height === 0) { continue; }
    texts.push({
      text: own.slice(0, 40), tag: element.tagName, cls: element.className,
      colour: parse(style.color), background: background(element),
      size: parseFloat(style.fontSize), weight: parseInt(style.fontWeight, 10),
    });
  }
  const unnamed = [];
  for (const control of document.querySelectorAll("input, select, textarea, button")) {
    if (control.type === "hidden" || control.hidden || control.closest("[hidden]")) { continue; }
    const named = (control.labels && control.labels.length)
      || control.getAttribute("aria-label") || control.getAttribute("aria-labelledby")
      || (control.tagName === "BUTTON" && control.textContent.trim());
    if (!named) { unnamed.push(control.outerHTML.slice(0, 80)); }
  }
  return {texts, unnamed};
}"""


def _luminance(rgb) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground, background) -> float:
    # A translucent text colour is blended over its background first.
    alpha = foreground[3]
    blended = [f * alpha + b * (1 - alpha) for f, b in zip(foreground, background, strict=False)]
    lighter, darker = sorted((_luminance(blended), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def problems(page) -> list[str]:
    """What fails on the page now: controls without a name, text under 4.5:1 (3:1 when large)."""
    found = page.evaluate(COLLECT)
    failures = [f"no label: {control}" for control in found["unnamed"]]
    for item in found["texts"]:
        large = item["size"] >= 24 or (item["size"] >= 18.66 and item["weight"] >= 700)
        ratio = contrast(item["colour"], item["background"])
        if ratio < (3 if large else 4.5):
            failures.append(f"{ratio:.2f}:1 {item['tag']}.{item['cls']} {item['text']!r}")
    return failures
