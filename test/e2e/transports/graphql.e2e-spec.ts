/**
 * Sessions in GraphQL (Apollo over Express, code-first): resolvers read and write the session of the HTTP
 * request that carries the operation, writes are saved before the response, `SessionGuard` turns an
 * anonymous call into a GraphQL error, `SessionService.current()` works in providers resolvers call,
 * and a global `APP_GUARD` SessionGuard protects HTTP routes and resolvers alike.
 */
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Controller, Get, Injectable, Query as HttpQuery, UseGuards } from '@nestjs/common';
import type { INestApplication, Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Args, Field, GraphQLModule, Mutation, ObjectType, Query, Resolver } from '@nestjs/graphql';
import request from 'supertest';
import {
  AllowAnonymous,
  Session,
  SessionGuard,
  SessionModule,
  SessionService,
  type SessionStore,
} from '../../../src/index.js';
import { createAppFromModule } from '../../support/app.js';
import {
  loginCookie,
  openStoreBackends,
  sessionCookiePair,
  slowWrites,
  type WriteCounter,
} from '../../support/transports.js';

interface ShopData {
  userId: string;
  cart: string[];
}

/** How often the guarded resolvers ran: a denied call must not reach them. */
const runs = { secret: 0, me: 0 };

@ObjectType()
class Me {
  @Field(() => String, { nullable: true })
  userId!: string | null;

  @Field(() => [String])
  cart!: string[];
}

/** A provider that reaches the operation's session through SessionService, as a service layer would. */
@Injectable()
class CartService {
  constructor(private readonly sessions: SessionService) {}

  add(item: string): string[] {
    const session = this.sessions.current<ShopData>();
    const cart = [...session.get('cart', []), item];
    session.set('cart', cart);
    return cart;
  }

  list(): string[] {
    return this.sessions.current<ShopData>().get('cart', []);
  }
}

@Resolver()
class ShopResolver {
  constructor(private readonly carts: CartService) {}

  @Query(() => Me)
  me(@Session() session: Session<ShopData>): Me {
    runs.me++;
    return { userId: session.get('userId', null), cart: session.get('cart', []) };
  }

  @Mutation(() => [String])
  addToCart(
    @Session() session: Session<ShopData>,
    @Args('item', { type: () => String }) item: string,
  ): string[] {
    const cart = [...session.get('cart', []), item];
    session.set('cart', cart);
    return cart;
  }

  /** Non-null: a denied call leaves no `data` at all. */
  @Query(() => String)
  @UseGuards(SessionGuard)
  secret(@Session() session: Session<ShopData>): string {
    runs.secret++;
    return `secret of ${session.get('userId')}`;
  }

  @Mutation(() => [String])
  addViaService(@Args('item', { type: () => String }) item: string): string[] {
    return this.carts.add(item);
  }

  @Query(() => [String])
  cartViaService(): string[] {
    return this.carts.list();
  }
}

@Controller()
class LoginController {
  @Get('login')
  @AllowAnonymous()
  async login(@Session() session: Session<ShopData>, @HttpQuery('user') user: string) {
    await session.cycleKey();
    session.set('userId', user);
    return { ok: true };
  }

  @Get('logout')
  async logout(@Session() session: Session<ShopData>) {
    await session.flush();
    return { ok: true };
  }

  /** Guarded only by the global guard in the APP_GUARD app; open in the other. */
  @Get('profile')
  profile(@Session() session: Session<ShopData>) {
    return { userId: session.get('userId', null) };
  }
}

async function createGraphqlApp(
  store: SessionStore,
  extraProviders: Provider[] = [],
): Promise<INestApplication> {
  return createAppFromModule({
    imports: [
      SessionModule.forRoot({ store, cleanupInterval: 0 }),
      GraphQLModule.forRoot<ApolloDriverConfig>({
        driver: ApolloDriver,
        autoSchemaFile: true,
        graphiql: false,
        context: ({ req, res }: { req: unknown; res: unknown }) => ({ req, res }),
      }),
    ],
    controllers: [LoginController],
    providers: [ShopResolver, CartService, ...extraProviders],
  });
}

interface GraphqlBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** POSTs one operation to /graphql (with a cookie, if given); the response and its typed body. */
async function gql(
  app: INestApplication,
  query: string,
  cookie?: string,
  variables?: Record<string, unknown>,
) {
  const req = request(app.getHttpServer()).post('/graphql');
  if (cookie) req.set('Cookie', cookie);
  const res = await req.send({ query, variables });
  return { res, body: res.body as GraphqlBody };
}

const backends = await openStoreBackends('sess_gql');
afterAll(() => backends.close());

describe.each(backends.table)('GraphQL sessions on %s', (_name, available, makeStore) => {
  const maybe = available ? it : it.skip;
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  describe('resolvers with @Session()', () => {
    let writes: WriteCounter;
    beforeEach(async () => {
      if (!available) return;
      const slow = slowWrites(makeStore(), 100);
      writes = slow.writes;
      app = await createGraphqlApp(slow.store);
      runs.me = runs.secret = 0;
    });

    maybe('a query reads the session an HTTP login wrote', async () => {
      const cookie = await loginCookie(app!, 'alice');
      const { res, body } = await gql(app!, '{ me { userId cart } }', cookie);
      expect(res.status).toBe(200);
      expect(body).toEqual({ data: { me: { userId: 'alice', cart: [] } } });
    });

    maybe('an anonymous query sees an empty session and creates none', async () => {
      const { res, body } = await gql(app!, '{ me { userId cart } }');
      expect(body).toEqual({ data: { me: { userId: null, cart: [] } } });
      expect(sessionCookiePair(res)).toBeUndefined();
    });

    maybe(
      'a mutation’s write is saved before the response, which sets the new session’s cookie',
      async () => {
        const first = await gql(app!, 'mutation { addToCart(item: "apple") }');
        expect(first.body).toEqual({ data: { addToCart: ['apple'] } });
        // Writes take 100 ms: the response came after the save completed, not while it ran.
        expect(writes.done).toBeGreaterThan(0);
        expect(writes.inFlight).toBe(0);
        const cookie = sessionCookiePair(first.res);
        expect(cookie).toBeDefined();

        const second = await gql(app!, 'mutation { addToCart(item: "pear") }', cookie);
        expect(second.body).toEqual({ data: { addToCart: ['apple', 'pear'] } });
        expect(writes.inFlight).toBe(0);
        // The same session goes on: no new cookie for it.
        expect(sessionCookiePair(second.res)).toBeUndefined();

        const read = await gql(app!, '{ me { userId cart } }', cookie);
        expect(read.body).toEqual({ data: { me: { userId: null, cart: ['apple', 'pear'] } } });
      },
    );

    maybe('a mutation adds to the logged-in user’s own session', async () => {
      const alice = await loginCookie(app!, 'alice');
      const bob = await loginCookie(app!, 'bob');
      const added = await gql(app!, 'mutation { addToCart(item: "fig") }', alice);
      expect(added.body).toEqual({ data: { addToCart: ['fig'] } });
      expect((await gql(app!, '{ me { userId cart } }', alice)).body).toEqual({
        data: { me: { userId: 'alice', cart: ['fig'] } },
      });
      expect((await gql(app!, '{ me { userId cart } }', bob)).body).toEqual({
        data: { me: { userId: 'bob', cart: [] } },
      });
    });

    maybe(
      '@UseGuards(SessionGuard): an anonymous query gets an UNAUTHENTICATED error and no data',
      async () => {
        const { res, body } = await gql(app!, '{ secret }');
        expect(body.data ?? null).toBeNull();
        expect(body.errors).toHaveLength(1);
        expect(body.errors![0].message).toBe('Login required');
        expect(body.errors![0].extensions?.code).toBe('UNAUTHENTICATED');
        expect(JSON.stringify(body)).not.toContain('secret of');
        expect(runs.secret).toBe(0);
        expect(sessionCookiePair(res)).toBeUndefined();
      },
    );

    maybe('@UseGuards(SessionGuard): a logged-in query gets the data', async () => {
      const cookie = await loginCookie(app!, 'alice');
      const { body } = await gql(app!, '{ secret }', cookie);
      expect(body).toEqual({ data: { secret: 'secret of alice' } });
      expect(runs.secret).toBe(1);
    });

    maybe('after an HTTP logout the old cookie is denied again', async () => {
      const cookie = await loginCookie(app!, 'alice');
      expect((await gql(app!, '{ secret }', cookie)).body).toEqual({
        data: { secret: 'secret of alice' },
      });
      await request(app!.getHttpServer()).get('/logout').set('Cookie', cookie).expect(200);
      const { body } = await gql(app!, '{ secret }', cookie);
      expect(body.errors?.[0]?.message).toBe('Login required');
      expect(body.data ?? null).toBeNull();
    });

    maybe('SessionService.current() in a provider a resolver calls reads and writes', async () => {
      const first = await gql(app!, 'mutation { addViaService(item: "plum") }');
      expect(first.body).toEqual({ data: { addViaService: ['plum'] } });
      const cookie = sessionCookiePair(first.res);
      expect(cookie).toBeDefined();
      const second = await gql(app!, 'mutation { addViaService(item: "kiwi") }', cookie);
      expect(second.body).toEqual({ data: { addViaService: ['plum', 'kiwi'] } });
      expect((await gql(app!, '{ cartViaService }', cookie)).body).toEqual({
        data: { cartViaService: ['plum', 'kiwi'] },
      });
      // Resolver-side @Session() sees what the service wrote.
      expect((await gql(app!, '{ me { cart } }', cookie)).body).toEqual({
        data: { me: { cart: ['plum', 'kiwi'] } },
      });
    });
  });

  describe('global APP_GUARD SessionGuard', () => {
    beforeEach(async () => {
      if (!available) return;
      app = await createGraphqlApp(makeStore(), [{ provide: APP_GUARD, useClass: SessionGuard }]);
      runs.me = runs.secret = 0;
    });

    maybe(
      'denies an anonymous HTTP request (401) and lets @AllowAnonymous() login through',
      async () => {
        await request(app!.getHttpServer())
          .get('/profile')
          .expect(401)
          .expect((res) => expect(res.body.message).toBe('Login required'));
        const cookie = await loginCookie(app!, 'carol');
        await request(app!.getHttpServer())
          .get('/profile')
          .set('Cookie', cookie)
          .expect(200, { userId: 'carol' });
      },
    );

    maybe('denies an anonymous GraphQL query and mutation, with no data', async () => {
      const query = await gql(app!, '{ me { userId cart } }');
      expect(query.body.data ?? null).toBeNull();
      expect(query.body.errors?.map((e) => e.message)).toEqual(['Login required']);
      expect(query.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(runs.me).toBe(0);

      const mutation = await gql(app!, 'mutation { addToCart(item: "apple") }');
      expect(mutation.body.data ?? null).toBeNull();
      expect(mutation.body.errors?.map((e) => e.message)).toEqual(['Login required']);
      // The denied write never happened: nothing was stored, no cookie handed out.
      expect(sessionCookiePair(mutation.res)).toBeUndefined();
    });

    maybe('lets a logged-in GraphQL query and mutation through', async () => {
      const cookie = await loginCookie(app!, 'carol');
      expect((await gql(app!, 'mutation { addToCart(item: "apple") }', cookie)).body).toEqual({
        data: { addToCart: ['apple'] },
      });
      expect((await gql(app!, '{ me { userId cart } }', cookie)).body).toEqual({
        data: { me: { userId: 'carol', cart: ['apple'] } },
      });
      expect((await gql(app!, '{ secret }', cookie)).body).toEqual({
        data: { secret: 'secret of carol' },
      });
      expect(runs.me).toBe(1);
    });
  });
});
