/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kservicectl status: what systemd and notifyd say about each kservice definition. */
#pragma once

int verb_status(int argc, char **argv);
