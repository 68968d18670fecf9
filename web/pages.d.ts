/** The fan's pages: index.html and assets/ with content-hashed names. */
export declare const fanPagesDir: string
/** The operator's console: index.html and assets/ with content-hashed names. */
export declare const consolePagesDir: string
