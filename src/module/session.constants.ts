/** Metadata key: `SessionGuard` lets this handler or controller through without a login. */
export const ALLOW_ANONYMOUS = 'nest-session:allow-anonymous';
