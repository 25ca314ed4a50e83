import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecutionContext } from '@nestjs/common';
import type { SessionPlatform } from '../platform/session-platform.js';

/** The Node request a call runs for, and the response its session is saved before (absent for sockets). */
export interface ContextRequest {
  req: IncomingMessage;
  res?: ServerResponse;
  /** Whether this request object lives for one call only (HTTP, GraphQL); a socket's handshake does not. */
  perCall: boolean;
}

/** A socket.io client, as far as sessions care: the handshake's request and headers. */
interface SocketLike {
  request?: IncomingMessage;
  handshake?: { headers?: IncomingMessage['headers']; address?: string };
}

/** The GraphQL context a resolver gets (`{ req, res }` with the Apollo driver over Express). */
interface GraphqlContextLike {
  req?: unknown;
  request?: unknown;
  res?: unknown;
}

/**
 * The request behind an execution context, whatever transport it came through: HTTP, GraphQL over HTTP,
 * or a WebSocket (the handshake's request, which carries the session cookie). `undefined` where there is
 * none (microservices, a socket without handshake data): callers that need a session then deny.
 * Reads the context through Nest's public API only, so GraphQL and socket.io need not be installed.
 */
export function requestOf(
  context: ExecutionContext,
  platform: SessionPlatform,
): ContextRequest | undefined {
  switch (context.getType<string>()) {
    case 'http': {
      const http = context.switchToHttp();
      return {
        req: platform.rawRequest(http.getRequest()),
        res: platform.rawResponse(http.getResponse()),
        perCall: true,
      };
    }
    case 'graphql': {
      const gql = context.getArgs()[2] as GraphqlContextLike | undefined;
      const req = gql?.req ?? gql?.request;
      if (!req || typeof req !== 'object') return undefined;
      return {
        req: platform.rawRequest(req),
        ...(gql?.res ? { res: platform.rawResponse(gql.res) } : {}),
        perCall: true,
      };
    }
    case 'ws': {
      const client = context.switchToWs().getClient<SocketLike | undefined>();
      if (client?.request?.headers) return { req: client.request, perCall: false };
      const headers = client?.handshake?.headers;
      if (!headers) return undefined;
      const req = { headers, socket: { remoteAddress: client?.handshake?.address } };
      return { req: req as unknown as IncomingMessage, perCall: false };
    }
    default:
      return undefined;
  }
}
