// The API token the user gave once for this browser tab (sessionStorage: never a cookie the
// browser would send by itself), and the headers a request carries it in. It imports nothing, so
// sweep-data.js can read with it before the rest of the page's modules have arrived.

export const TOKEN_KEY = 'harrow.token';

export function headers(extra = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra };
}
