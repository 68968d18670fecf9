export interface WalletStore {
  balanceOf(userId: string): Promise<number>
}
