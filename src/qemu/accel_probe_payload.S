# The KVM probe guest: a 64 KiB raw -bios image that QEMU maps at 0xffff0000.
# From the reset vector it switches to protected then long mode and does what
# a Linux guest does early and what broke Linux guests on a nested (PVM) KVM:
# touching fresh memory, a locked cmpxchg16b on RAM (PVM stops the vCPU with
# "KVM internal error ... emulation failure"), delivering an exception. It
# prints one letter on COM1 after each step ("plmcx\n"; c is skipped when the
# CPU lacks CX16), then writes 0x10 to isa-debug-exit at 0xf4 (QEMU exits with
# status 33), or 0x11 when the exception handler did not run.
#
# Deliberately not probed: a cmpxchg16b on a live page table. KVM with shadow
# paging (no EPT/NPT) emulates writes to page tables and cannot emulate
# cmpxchg16b, yet Linux guests run there because they never do that.
#
# accel_probe_payload.cc holds the assembled bytes; regenerate them with
#   as --64 -o p.o accel_probe_payload.S && objcopy -O binary -j .text p.o p.bin
# (accel_probe_payload_test checks that the two agree).
        .set BASE, 0xffff0000
        .set PML4, 0x1000
        .set PDPT, 0x2000
        .set PD,   0x3000
        .set IDT,  0x7000
        .set COM1, 0x3f8
        .code16
start:
        cli
        lgdtl %cs:(gdt_desc - start)
        movl %cr0, %eax
        orl $1, %eax
        movl %eax, %cr0
        ljmpl $0x08, $(BASE + pm32 - start)
        .code32
pm32:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movw $COM1, %dx
        movb $'p', %al
        outb %al, %dx
        movl $PML4, %edi            # zero PML4, PDPT, 4 PDs and the IDT page
        xorl %eax, %eax
        movl $(0x7000 / 4), %ecx
        rep stosl
        movl $(PDPT | 3), PML4
        movl $(PD | 3), PDPT
        movl $(PD + 0x1000 | 3), PDPT + 8
        movl $(PD + 0x2000 | 3), PDPT + 16
        movl $(PD + 0x3000 | 3), PDPT + 24
        movl $PD, %edi              # 2048 2 MiB pages: identity map of 4 GiB
        movl $0x83, %eax
        movl $2048, %ecx
1:      movl %eax, (%edi)
        addl $0x200000, %eax
        addl $8, %edi
        loop 1b
        movl %cr4, %eax
        orl $0x20, %eax             # PAE
        movl %eax, %cr4
        movl $PML4, %eax
        movl %eax, %cr3
        movl $0xc0000080, %ecx      # EFER.LME
        rdmsr
        orl $0x100, %eax
        wrmsr
        movl %cr0, %eax
        orl $0x80000000, %eax       # PG
        movl %eax, %cr0
        ljmpl $0x18, $(BASE + lm64 - start)
        .code64
lm64:
        movl $0x80000, %esp
        movw $COM1, %dx
        movb $'l', %al
        outb %al, %dx
        movl $0x100000, %edi        # one qword per 4 KiB page, 32 MiB from 1 MiB
        movl $8192, %ecx
2:      movq %rcx, (%rdi)
        addq $0x1000, %rdi
        loop 2b
        movb $'m', %al
        outb %al, %dx
        movl $1, %eax               # no CX16: skip the cmpxchg16b step
        cpuid
        btl $13, %ecx
        jnc 5f
        movl $0x8000, %edi          # lock cmpxchg16b on plain RAM
        xorl %eax, %eax
        xorl %edx, %edx
        movl $1, %ebx
        movl $2, %ecx
        lock cmpxchg16b (%rdi)
        movw $COM1, %dx
        movb $'c', %al
        outb %al, %dx
5:      movl $(IDT + 3 * 16), %edi  # int3 gate -> int3_handler
        movl $(BASE + int3_handler - start), %eax
        movw %ax, (%rdi)
        movw $0x18, 2(%rdi)
        movw $0x8e00, 4(%rdi)
        shrl $16, %eax
        movw %ax, 6(%rdi)
        movl $(BASE + idt_desc - start), %eax
        lidt (%rax)
        xorl %r15d, %r15d
        int3
        cmpl $1, %r15d
        jne fail
        movw $COM1, %dx
        movb $'x', %al
        outb %al, %dx
        movb $'\n', %al
        outb %al, %dx
        movw $0xf4, %dx
        movb $0x10, %al
        outb %al, %dx
3:      hlt
        jmp 3b
fail:
        movw $0xf4, %dx
        movb $0x11, %al
        outb %al, %dx
        jmp 3b
int3_handler:
        movl $1, %r15d
        iretq
        .p2align 3
gdt:
        .quad 0
        .quad 0x00cf9b000000ffff    # 0x08 code32
        .quad 0x00cf93000000ffff    # 0x10 data
        .quad 0x00af9b000000ffff    # 0x18 code64
gdt_desc:
        .word gdt_desc - gdt - 1
        .long BASE + gdt - start
idt_desc:
        .word 4 * 16 - 1
        .quad IDT
end:
        .org 0xfff0
        .code16
reset:
        jmp start
        .org 0x10000
