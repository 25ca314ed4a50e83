/** The app's own request bodies, which the docs take for granted. */
export class LoginDto {
  username!: string;
  password!: string;
  next?: string;
}

export class PasswordDto {
  password!: string;
}
