import { CardPage } from '../components/layout.tsx';

export function ForgotPasswordScreen() {
  return <CardPage title="Forgot password">{null}</CardPage>;
}
