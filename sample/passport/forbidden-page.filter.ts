import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  ForbiddenException,
  Injectable,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { escapeHtml, page, wantsHtml } from '../html.js';

/**
 * A refused form post (a CSRF failure: a stale page after logging out elsewhere, or another site posting
 * the form) shows browsers a page with the reason and a way back, instead of Nest's JSON. API clients
 * still get the JSON. Written against the HTTP adapter, so it works on Express and Fastify alike.
 */
@Catch(ForbiddenException)
@Injectable()
export class ForbiddenPageFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: ForbiddenException, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    const response: unknown = http.getResponse();
    const adapter = this.adapterHost.httpAdapter;
    const accept = request.headers.accept;
    if (!wantsHtml(Array.isArray(accept) ? accept.join(',') : accept)) {
      adapter.reply(response, exception.getResponse(), 403);
      return;
    }
    adapter.setHeader(response, 'Content-Type', 'text/html; charset=utf-8');
    adapter.reply(
      response,
      page(
        'Forbidden',
        `<h1>Forbidden (403)</h1>
<p role="alert">${escapeHtml(exception.message)}</p>
<p>Nothing was changed. <a href="/passport/account">Back to your account</a> · <a href="/">Home</a></p>`,
      ),
      403,
    );
  }
}
