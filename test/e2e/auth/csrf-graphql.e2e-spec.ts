/** CsrfGuard over GraphQL (Apollo, Express): mutations need the token, queries do not. */
import 'reflect-metadata';
import { type INestApplication, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { CsrfGuard, Session, SessionModule, SessionService } from '../../../src/index.js';
import { sessionCookieOf } from '../../support/app.js';

@Resolver()
class CsrfResolver {
  constructor(private readonly sessions: SessionService) {}

  @Query(() => String)
  csrfToken(@Session() session: Session): string {
    return this.sessions.csrfToken(session);
  }

  @Mutation(() => String)
  rename(): string {
    return 'renamed';
  }
}

@Module({
  imports: [
    SessionModule.forRoot({ cleanupInterval: 0 }),
    GraphQLModule.forRoot<ApolloDriverConfig>({
      driver: ApolloDriver,
      autoSchemaFile: true,
      context: ({ req, res }: { req: unknown; res: unknown }) => ({ req, res }),
    }),
  ],
  providers: [CsrfResolver, { provide: APP_GUARD, useClass: CsrfGuard }],
})
class GraphqlAppModule {}

describe('CsrfGuard on GraphQL', () => {
  let app: INestApplication;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [GraphqlAppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
  });
  const gql = (query: string, cookie?: string, token?: string) => {
    const req = request(app.getHttpServer()).post('/graphql').send({ query });
    if (cookie) void req.set('Cookie', cookie);
    if (token) void req.set('X-CSRF-Token', token);
    return req;
  };

  it('lets queries through, and requires the session token for mutations', async () => {
    const tokenRes = await gql('{ csrfToken }').expect(200);
    const token = tokenRes.body.data.csrfToken as string;
    const cookie = `sessionid=${sessionCookieOf(tokenRes)!.value}`;

    const missing = await gql('mutation { rename }', cookie).expect(200);
    expect(missing.body.data).toBeNull();
    expect(missing.body.errors[0].message).toMatch(/CSRF token missing/);

    const other = (await gql('{ csrfToken }').expect(200)).body.data.csrfToken as string;
    const wrong = await gql('mutation { rename }', cookie, other).expect(200);
    expect(wrong.body.errors[0].message).toMatch(/CSRF token incorrect/);

    const ok = await gql('mutation { rename }', cookie, token).expect(200);
    expect(ok.body).toEqual({ data: { rename: 'renamed' } });
  });
});
