import { CardPage } from '../components/layout.tsx';

export function SignInScreen() {
  return <CardPage title="Sign in">{null}</CardPage>;
}
