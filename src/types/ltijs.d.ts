// ltijs 5.9 ships no types; these cover the parts Jejak calls.
declare module 'ltijs' {
  export interface LtijsPlatform {
    platformUrl(): Promise<string>;
    platformClientId(): Promise<string>;
    platformKid(): Promise<string>;
    platformActive(active?: boolean): Promise<boolean>;
    platformPrivateKey(): Promise<string>;
    platformPublicKey(): Promise<string>;
    platformAccessToken(scopes: string): Promise<{ access_token: string; token_type: string; expires_in: number }>;
    delete(): Promise<boolean>;
  }
  export interface LtijsProvider {
    setup(encryptionKey: string, database: { plugin: unknown }, options?: Record<string, unknown>): LtijsProvider;
    getPlatform(url: string, clientId: string): Promise<LtijsPlatform | false>;
  }
  export const Provider: LtijsProvider;
}
