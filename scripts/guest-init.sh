#!/bin/sh
# /init of the tests/sgio-qemu.test guest (built by scripts/guest-build.sh):
# loads the SCSI modules, waits for /dev/sg0 (the scsi-generic device QEMU
# puts on its virtio-scsi bus), runs /run.sh (appended by the test as a
# second initramfs archive) and powers off.  Everything it prints goes to
# the serial console, which the test reads; lines that matter start "MT ".
PATH=/usr/bin:/bin
LD_LIBRARY_PATH=/lib
export PATH LD_LIBRARY_PATH
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in /modules/*.ko; do
	insmod "$m" || echo "MT error insmod $m"
done
i=0
while [ ! -e /dev/sg0 ] && [ "$i" -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
if [ ! -e /dev/sg0 ]; then
	echo "MT error no /dev/sg0 after 10 s"
elif [ -r /run.sh ]; then
	sh /run.sh
else
	echo "MT error no /run.sh"
fi
echo "MT done"
# -no-reboot makes QEMU exit on the reboot if poweroff does not end it.
poweroff -f
sleep 1
echo b >/proc/sysrq-trigger
