/** Jest runs the TypeScript sources as native ES modules through SWC (Nest 12 ships ESM only). */
const base = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};

/**
 * Suites that use Express's own API, and what covers their subject on Fastify: request-path-robustness
 * (`res.redirect`; fastify-specific.e2e-spec.ts has the reply twins), safe-redirect (an Express route
 * pattern; `safeNextPath` itself is platform-free), prototype-keys (Fastify's JSON parser already answers
 * 400 to a `__proto__` body; stored records are covered on the express run).
 */
const expressOnly = [
  'request-path-robustness.e2e-spec.ts',
  'security/safe-redirect.e2e-spec.ts',
  'security/prototype-keys.e2e-spec.ts',
].map((file) => `/test/e2e/${file}$`);

/** The suites that serve HTTP: each runs once per platform. */
const e2e = ['e2e', 'e2e-stores', 'sample'].map((dir) => `<rootDir>/test/${dir}/**/*.e2e-spec.ts`);

export default {
  testTimeout: 20000,
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/**/*.spec.ts'] },
    ...['express', 'fastify'].map((platform) => ({
      ...base,
      displayName: platform,
      testMatch: e2e,
      setupFiles: [`<rootDir>/test/support/on-${platform}.ts`],
      testPathIgnorePatterns: platform === 'fastify' ? expressOnly : [],
    })),
  ],
};
