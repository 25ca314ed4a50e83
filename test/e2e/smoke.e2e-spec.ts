import { Controller, Get } from '@nestjs/common';
import request from 'supertest';
import { Session } from '../../src/index.js';
import { createApp } from '../support/app.js';

@Controller()
class C {
  @Get('set') set(@Session() s: Session) { s.set('username', 'antone'); return 'ok'; }
  @Get('get') get(@Session() s: Session) { return { u: s.get('username', 'Guest') }; }
  @Get('plain') plain() { return 'plain'; }
}

test('smoke', async () => {
  const app = await createApp({}, [C]);
  const agent = request.agent(app.getHttpServer());
  const r0 = await agent.get('/get').expect(200);
  expect(r0.body).toEqual({ u: 'Guest' });
  expect(r0.headers['set-cookie']).toBeUndefined();
  const r1 = await agent.get('/set').expect(200);
  console.log(r1.headers);
  const r2 = await agent.get('/get').expect(200);
  expect(r2.body).toEqual({ u: 'antone' });
  await agent.get('/plain').expect(200, 'plain');
  await app.close();
});
