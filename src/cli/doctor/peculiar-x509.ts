/**
 * @peculiar/x509, the doctor's certificate parser. It is not the code meshid mints with, so the
 * doctor checks the minter instead of sharing its mistakes. The library resolves its parsers
 * through tsyringe, which needs the Reflect metadata API loaded before it.
 */
import 'reflect-metadata';

export * from '@peculiar/x509';
