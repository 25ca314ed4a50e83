/** Jest runs the TypeScript sources as native ES modules through SWC (Nest 12 ships ESM only). */
const base = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};

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
    })),
  ],
};
