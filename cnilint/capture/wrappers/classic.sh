#!/bin/bash
# cnilint-capture-wrapper format=classic: the wrapper article's script, byte for byte (only LOG_DIR set); "cnilint capture uninstall" restores the original
SCRIPT=$(readlink -f $0)
LOG_DIR=/tmp/log
if ! [ -d $LOG_DIR ];then
mkdir -p $LOG_DIR
fi
LOG=${LOG_DIR}/$(basename $0)
date >> $LOG
echo "=================================================================" >> $LOG
echo "CNI params:" >> $LOG
env | grep CNI >> $LOG
echo "env:" >> $LOG
env >> $LOG
if [ ! -t 0 ]; then
{
echo "INPUT:" >> $LOG
output=$(tee -a $LOG | ${SCRIPT}-original "$@" | tee /dev/fd/3)
echo "" >> $LOG
echo "OUTPUT:" >> $LOG
echo "$output" >> $LOG
} 3>&1
else
echo "OUTPUT:" >> $LOG
${SCRIPT}-original "$@" | tee -a $LOG
fi
echo "Returned at: $(date)" >> $LOG
echo "=================================================================" >> $LOG
echo "" >> $LOG
echo "" >> $LOG
