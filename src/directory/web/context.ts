import type { ApiContext } from '../http-api.ts';

/** What the directory's web pages are given (src/directory/part.ts builds it). */
export interface WebContext extends ApiContext {
  sandbox: boolean;
  /** The HMAC secret of the forms' CSRF tokens (the store setting PAGE_SECURITY_SECRET_SETTING). */
  pageSecret: string;
}
