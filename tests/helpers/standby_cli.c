/* `vdiskctl standby ...` for the HA tests, until vdiskctl's dispatcher lists it: runs
 * cmd_standby with the same argv. */
#include "client-admin/cmd_standby.h"

int main(int argc, char **argv)
{
	(void)argc;
	argv[0] = "standby";
	return cmd_standby(argc, argv);
}
