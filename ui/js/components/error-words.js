// Human wording for every error code the API answers: what happened and what to do, without
// internal codes. The server's own message stays available as a tooltip and for 422 problems.

const WORDS = {
  UNAUTHORIZED: 'Your session has ended. Sign in again.',
  FORBIDDEN: 'Your role does not allow this.',
  FORBIDDEN_ROLE: 'Your role does not allow this.',
  FORBIDDEN_ACTOR: 'You can only act as yourself.',
  APPROVAL_REQUIRED: 'A person has to complete this step.',
  NOT_FOUND: 'It no longer exists, or it is not in your tenant.',
  EXCEPTION_NOT_FOUND: 'This exception does not exist in your tenant.',
  PLAYBOOK_NOT_FOUND: 'That playbook does not exist.',
  PLAYBOOK_VERSION_NOT_FOUND: 'That playbook version does not exist.',
  DOMAIN_PACK_NOT_FOUND: 'That domain has no pack yet.',
  STEP_NOT_FOUND: 'That step is not part of this playbook.',
  CONFLICT: 'Someone changed this in the meantime. The page now shows the current state.',
  CONCURRENT_MODIFICATION: 'Someone changed this at the same moment. The page now shows the current state; try again.',
  VERSION_CONFLICT: 'Someone saved a newer version first. Reload and apply your change again.',
  EXCEPTION_EXISTS: 'An exception with this id already exists with different details.',
  IDEMPOTENCY_KEY_REUSED: 'This request was already sent with different content.',
  ILLEGAL_STATUS_TRANSITION: 'The status cannot change that way from where it is now.',
  NO_PLAYBOOK: 'No playbook is assigned to this exception any more.',
  PLAYBOOK_COMPLETED: 'This playbook is already complete.',
  STEP_NOT_SKIPPABLE: 'This step cannot be skipped.',
  STEP_OUT_OF_ORDER: 'This step is no longer the current one.',
  TEMPLATE_UNRESOLVED: 'The step needs a value this exception does not have.',
  TOOL_NOT_ALLOWED: 'The tool this step calls is not approved for your tenant.',
  TOOL_PAYLOAD_INVALID: 'The tool call is missing something it needs.',
  PAYLOAD_TOO_LARGE: 'That is too large to send.',
  VALIDATION_ERROR: 'Some of the input is not valid.',
  SERVICE_UNAVAILABLE: 'The service is busy. Nothing was changed; try again in a moment.',
  NETWORK: 'Could not reach the server. Check your connection and retry.',
};

/** True when the code has human wording here (its UPPER_SNAKE name need not be shown). */
export function hasWords(code) {
  return Object.prototype.hasOwnProperty.call(WORDS, code || '');
}

/** One sentence for an ApiError (or any Error): the human wording, with the specifics the
 * server gave where they help (the expected step, the statuses of a transition). */
export function humanError(err) {
  if (!err) return 'Something went wrong.';
  const code = err.code || '';
  let words = WORDS[code];
  if (!words) return err.message || 'Something went wrong.';
  const d = err.details || {};
  if (code === 'STEP_OUT_OF_ORDER' && d.expected_step) words = `This step is no longer the current one: step ${d.expected_step} is next.`;
  if (code === 'ILLEGAL_STATUS_TRANSITION' && d.from && d.to)
    words = `The status cannot go from ${String(d.from).replace(/_/g, ' ')} to ${String(d.to).replace(/_/g, ' ')}.`;
  return words;
}

/** 1-based, readable field paths for people ("steps[0].params" -> "step 1 params"). */
export function humanPath(path) {
  return String(path || '')
    .replace(/\[(\d+)\]/g, (_, n) => ` ${Number(n) + 1}`)
    .replace(/\./g, ' ')
    .replace(/_/g, ' ')
    .replace(/^steps (\d+)/, 'step $1')
    .trim();
}
