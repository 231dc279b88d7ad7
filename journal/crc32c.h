/* crc32c.h - CRC-32C (Castagnoli), hardware-accelerated where the CPU has SSE4.2 */
#ifndef WSTAPE_CRC32C_H
#define WSTAPE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of buf[0..n), continuing from crc (start with 0). */
uint32_t crc32c(uint32_t crc, const void *buf, size_t n);

#endif
