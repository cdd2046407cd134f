// SPDX-License-Identifier: GPL-2.0-only
/*
 * DOC: kml_fail — a module whose init fails, for duplicate-load storms.
 *
 * Its init sleeps `msecs` milliseconds (so duplicates arrive while it is COMING) and then returns
 * -`retval` (default ENODEV, as a driver that finds no device does). What the duplicates get is
 * the point: -EBUSY from the v6.2 same-name check, or the first caller's -ENODEV from v6.5's
 * idempotent finit_module.
 */
#include <linux/delay.h>
#include <linux/errno.h>
#include <linux/module.h>

static unsigned int msecs = 500;
module_param(msecs, uint, 0444);
MODULE_PARM_DESC(msecs, "how long init sleeps before failing (ms)");

static int retval = ENODEV;
module_param(retval, int, 0444);
MODULE_PARM_DESC(retval, "init returns -retval (default ENODEV)");

static int __init kml_fail_init(void)
{
	msleep(msecs);
	pr_info("kml_fail: init fails with %d after %u ms\n", -retval, msecs);
	return -retval;
}

module_init(kml_fail_init);
MODULE_DESCRIPTION("kmodlab test module: init sleeps msecs ms, then fails with -retval");
MODULE_LICENSE("GPL");
