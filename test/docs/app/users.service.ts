import { Injectable } from '@nestjs/common';

/** The app's own user lookup, which the docs take for granted. */
export interface User {
  id: number;
  username: string;
  passwordHash: string;
}

@Injectable()
export class UsersService {
  async check(_username: string, _password: string): Promise<User | undefined> {
    return undefined;
  }

  async find(_id: number): Promise<User | undefined> {
    return undefined;
  }

  async setPassword(_id: number, _password: string): Promise<void> {}
}
