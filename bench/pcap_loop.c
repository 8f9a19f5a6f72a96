/* bench/pcap_loop FILE: the bare libpcap read loop, pcap_next_ex over a
 * capture file counting packets and captured bytes -- the ceiling any
 * decoder built on libpcap can reach, and the reference bench/dissect.sh
 * compares mirror-dissect with.  Prints "packets N bytes B file F seconds S"
 * (bytes: captured lengths; file: the file's size). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include <pcap/pcap.h>

int main(int argc, char **argv)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t packets = 0, bytes = 0, sum = 0;
	struct timespec t0, t1;
	struct stat sb;
	pcap_t *p;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "Usage: pcap_loop FILE\n");
		return 2;
	}
	if (stat(argv[1], &sb) < 0) {
		perror(argv[1]);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!p) {
		fprintf(stderr, "pcap_loop: %s: %s\n", argv[1], ebuf);
		return 1;
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		packets++;
		bytes += h->caplen;
		if (h->caplen)
			sum += data[0]; /* touch the packet, as a decoder would */
	}
	if (rc != PCAP_ERROR_BREAK) {
		fprintf(stderr, "pcap_loop: %s: packet %llu: %s\n", argv[1],
			(unsigned long long)packets + 1, pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	pcap_close(p);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("packets %llu bytes %llu file %llu seconds %.6f check %llu\n",
	       (unsigned long long)packets, (unsigned long long)bytes,
	       (unsigned long long)sb.st_size,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       (unsigned long long)(sum & 1));
	return 0;
}
