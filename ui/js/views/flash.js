// A one-shot message carried across a navigation ("Saved as version 4").
let pending = '';

export function setFlash(message) {
  pending = message;
}

export function takeFlash() {
  const message = pending;
  pending = '';
  return message;
}
