/* SPDX-License-Identifier: CC0-1.0 */
/*
 * mirage-indexer: stand-in for the Mirage document indexer. All it does
 * is the startup schema check every Mirage service performs
 * (service-common.c).
 */
#include "service-common.h"

int
main(int argc, char **argv)
{
	return service_main("mirage-indexer", argc, argv);
}
