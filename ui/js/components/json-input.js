// Shared JSON textarea parsing: precise client-side messages (with line/column)
// before anything is sent to the server.

/** Returns {value} or {error, position}. */
export function parseJson(text) {
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    const m = /position (\d+)/.exec(e.message);
    const position = m ? Number(m[1]) : null;
    let message = e.message;
    if (position !== null && !/line \d+/.test(message)) {
      const before = text.slice(0, position).split('\n');
      message += ` (line ${before.length}, column ${before[before.length - 1].length + 1})`;
    }
    return { error: `Invalid JSON: ${message}`, position };
  }
}

/** Puts the caret where the parser stopped so the fix is one keystroke away. */
export function focusPosition(textarea, position) {
  textarea.focus();
  if (position !== null && position !== undefined) textarea.setSelectionRange(position, position);
}
