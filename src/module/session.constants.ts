/** Metadata key: `SessionGuard` lets this handler or controller through without a login. */
export const ALLOW_ANONYMOUS = 'nest-session:allow-anonymous';

/** Metadata key: `CsrfGuard` does not check this handler or controller. */
export const SKIP_CSRF = 'nest-session:skip-csrf';
