import type { NotAuthorisableReason } from '../../authorisable.ts';
import type { ErrorPage } from '../pages.ts';

/** What the PSU reads when the request cannot be approved (any more), per reason. */
export const INTENT_REFUSALS: Record<NotAuthorisableReason, { title: string; message: string }> = {
  not_found: {
    title: 'We cannot find this request',
    message: 'The app sent a request we do not recognise. Go back to the app and try again.',
  },
  wrong_client: {
    title: 'We cannot find this request',
    message: 'The request does not belong to the app that sent you here. Go back to the app and try again.',
  },
  not_awaiting_authorisation: {
    title: 'This request has already been dealt with',
    message: 'It was approved, rejected or cancelled earlier. Go back to the app to start again.',
  },
  expired: {
    title: 'This request has expired',
    message: 'It is too late to approve it. Go back to the app to make a new request.',
  },
  scope_mismatch: {
    title: 'This request is not valid',
    message: 'The app asked for something that does not match its request. Go back to the app and try again.',
  },
};

export const FORM_EXPIRED: ErrorPage = {
  title: 'Your session has expired',
  message: 'For your security this form can no longer be sent. Go back to the app and start again.',
};

export const NOT_FOUND: ErrorPage = {
  title: 'Page not found',
  message: 'There is no such page.',
  details: ['Go back to the app that sent you here and start again.'],
};
