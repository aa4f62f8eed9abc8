# The device end (docs/firmware.md), included by the Makefile.
#
# `make firmware` cross-compiles the firmware for the ATmega328P (Arduino
# Uno / Nano) with avr-gcc and avr-libc; it is not part of `make`, so the
# host programs build without the AVR toolchain.  The board tests build it
# on demand.  `make flash PORT=/dev/ttyACM0` writes it to a board through
# its bootloader with avrdude.  The emulated board, cuplab-board (simavr),
# is a host program and part of `make`; it is not installed.

AVR_CC      ?= avr-gcc
AVR_OBJCOPY ?= avr-objcopy
AVR_SIZE    ?= avr-size
AVR_MCU     := atmega328p
AVR_F_CPU   := 16000000UL
AVR_CFLAGS  := -mmcu=$(AVR_MCU) -DF_CPU=$(AVR_F_CPU) -DCUPLAB_VERSION='"$(VERSION)"' \
               -Os -std=c11 -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Werror -g \
               -ffunction-sections -fdata-sections -MMD -MP
# FW_DEFS: -D options of a test build (fw_config.h says which may be set).
AVR_CFLAGS  += $(FW_DEFS)
AVR_LDFLAGS := -mmcu=$(AVR_MCU) -Wl,--gc-sections
FW_SRC      := $(wildcard firmware/*.c)
FW_OBJ      := $(FW_SRC:firmware/%.c=$(BUILD)/firmware/avr/%.o)
FW_ELF      := $(BUILD)/firmware/cuplab-uno.elf
FW_HEX      := $(BUILD)/firmware/cuplab-uno.hex

# Flashing: the Uno's bootloader (optiboot) talks at 115200 baud; old Nano
# bootloaders need FLASH_BAUD=57600.
PORT        ?= /dev/ttyACM0
FLASH_BAUD  ?= 115200
AVRDUDE     ?= avrdude

.PHONY: firmware flash

firmware: $(FW_HEX)
	@$(AVR_SIZE) -C --mcu=$(AVR_MCU) $(FW_ELF)

$(BUILD)/firmware/avr/%.o: firmware/%.c
	@mkdir -p $(dir $@)
	$(AVR_CC) $(AVR_CFLAGS) -c $< -o $@

$(FW_ELF): $(FW_OBJ)
	$(AVR_CC) $(AVR_LDFLAGS) -o $@ $^

$(FW_HEX): $(FW_ELF)
	$(AVR_OBJCOPY) -O ihex -R .eeprom $< $@

flash: $(FW_HEX)
	$(AVRDUDE) -p $(AVR_MCU) -c arduino -P $(PORT) -b $(FLASH_BAUD) -D -U flash:w:$<:i

# The emulated board: simavr's library and parts (their headers as system
# headers: they are not held to this project's warnings).
BOARD_SRC   := $(wildcard firmware/board/*.c)
BOARD_OBJ   := $(BOARD_SRC:%.c=$(BUILD)/%.o)
BOARD       := $(BUILD)/cuplab-board

$(BOARD_OBJ): CPPFLAGS += -isystem /usr/include/simavr -isystem /usr/include/simavr/parts

$(BOARD): $(BOARD_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ -lsimavr -lsimavrparts -lelf $(PKG_LIBS) $(LDLIBS)

all: $(BOARD)
