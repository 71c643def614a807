// Outgoing mail. SMTP through nodemailer when an smtp binding exists; otherwise no mailer at all, and
// the flows that need one (password reset, email verification) are switched off rather than faked.
import type { Transporter } from 'nodemailer';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
  close(): void;
}

export interface SmtpBinding {
  url: string; // smtp://user:pass@host:587 or smtps://…:465
  from: string;
}

/** nodemailer is loaded only once an smtp binding exists. */
export async function createSmtpMailer(binding: SmtpBinding): Promise<Mailer> {
  const { createTransport } = await import('nodemailer');
  const url = new URL(binding.url);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
    throw new Error('smtp binding must be an smtp:// or smtps:// URL');
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  const transport: Transporter = createTransport({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 587)),
    secure: url.protocol === 'smtps:',
    // STARTTLS is required off-machine: credentials and reset links must not cross a network in clear.
    requireTLS: !loopback && url.protocol === 'smtp:',
    ignoreTLS: loopback && url.searchParams.get('tls') !== 'require',
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    async send(mail) {
      await transport.sendMail({
        from: binding.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
      });
    },
    close: () => transport.close(),
  };
}
