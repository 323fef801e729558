#include "textflag.h"

// func sweepLanesAVX2(v, net, drive []int64, stamp, posMark []int32, lb laneBounds, laneBytes int, t int32, driven bool, flags []uint64)
//
// AX neuron index i; DI v, SI net, DX drive, R8 stamp; R9 the next position's mark (past the
// last at end-8(SP)); BX lb, R11 the bounds of the lane group within a position; R13 the next
// three flag words; R14, R10 and CX the three being filled (one, other, active); R12 scratch.
// Y13 zero, X14 t in every lane, Y12 all ones when the position was touched.
TEXT ·sweepLanesAVX2(SB), NOSPLIT, $8-184
	MOVQ v_base+0(FP), DI
	MOVQ net_base+24(FP), SI
	MOVQ drive_base+48(FP), DX
	MOVQ stamp_base+72(FP), R8
	MOVQ posMark_base+96(FP), R9
	MOVQ posMark_len+104(FP), R10
	LEAQ (R9)(R10*4), R10
	MOVQ R10, end-8(SP)
	MOVQ lb_base+120(FP), BX
	MOVQ flags_base+160(FP), R13
	MOVL t+152(FP), R12
	MOVQ R12, X14
	VPBROADCASTD X14, X14
	VPXOR Y13, Y13, Y13
	XORQ AX, AX
	XORQ CX, CX
	XORQ R10, R10
	XORQ R14, R14

position:
	CMPQ R9, end-8(SP)
	JEQ  done
	VPXOR Y12, Y12, Y12
	MOVL (R9), R12
	ADDQ $4, R9
	CMPL R12, t+152(FP)
	JNE  lanes
	VPCMPEQQ Y12, Y12, Y12

lanes:
	XORQ R11, R11

lane:
	VMOVDQU (DI)(AX*8), Y0
	CMPB    driven+156(FP), $0
	JEQ     charged
	VPADDQ  (DX)(AX*8), Y0, Y0

charged:
	VMOVDQU  (SI)(AX*8), Y2          // net counts
	VMOVDQU  (BX)(R11*1), Y10        // hi
	VPCMPGTQ Y0, Y10, Y3             // hi > v
	VPCMPGTQ 32(BX)(R11*1), Y0, Y4   // v > lo
	VPAND    Y4, Y3, Y4              // between the thresholds
	VPCMPGTQ Y2, Y13, Y5             // 0 > net
	VPCMPGTQ 64(BX)(R11*1), Y0, Y6   // v > backNeg
	VPAND    Y6, Y5, Y5
	VPCMPGTQ Y13, Y2, Y7             // net > 0
	VMOVDQU  96(BX)(R11*1), Y8
	VPCMPGTQ Y0, Y8, Y8              // backPos > v
	VPAND    Y8, Y7, Y7
	VPOR     Y7, Y5, Y5              // a take-back may apply
	VPANDN   Y4, Y5, Y4              // quiet: between the thresholds, no take-back

	VMOVDQU  128(BX)(R11*1), Y6
	VPCMPGTQ Y0, Y6, Y6              // hi2 > v
	VPANDN   Y6, Y3, Y6              // and v >= hi
	VMOVDQU  160(BX)(R11*1), Y7
	VPCMPGTQ Y2, Y7, Y7              // minPosCount > net
	VPANDN   Y6, Y7, Y6              // one: a count the first case allows
	VPAND    Y10, Y6, Y7
	VPSUBQ   Y7, Y0, Y0              // v - hi where one
	VPSUBQ   Y6, Y2, Y2              // net + 1 where one (its lanes are -1)
	VMOVDQU  Y0, (DI)(AX*8)
	VMOVDQU  Y2, (SI)(AX*8)

	VMOVMSKPD Y6, R12
	SHLXQ     AX, R12, R12
	ORQ       R12, R14
	VPOR      Y6, Y4, Y4             // quiet or one
	VMOVMSKPD Y4, R12
	XORQ      $15, R12               // other: may, not one
	SHLXQ     AX, R12, R12
	ORQ       R12, R10

	VMOVDQU   (R8)(AX*4), X9
	VPCMPEQD  X14, X9, X9            // stamped in t
	VPOR      X12, X9, X9            // or the position touched
	VMOVMSKPS X9, R12
	SHLXQ     AX, R12, R12
	ORQ       R12, CX

	ADDQ  $4, AX
	TESTQ $63, AX
	JNE   next
	MOVQ  R14, (R13)
	MOVQ  R10, 8(R13)
	MOVQ  CX, 16(R13)
	ADDQ  $24, R13
	XORQ  R14, R14
	XORQ  R10, R10
	XORQ  CX, CX

next:
	ADDQ $192, R11
	CMPQ R11, laneBytes+144(FP)
	JNE  lane
	JMP  position

done:
	TESTQ $63, AX
	JEQ   return
	MOVQ  R14, (R13)
	MOVQ  R10, 8(R13)
	MOVQ  CX, 16(R13)

return:
	VZEROUPPER
	RET

// func addScaledAVX2(dst []int64, w []int32, n int64)
//
// Four weights a step: sign-extended to 64 bits, multiplied by n (VPMULDQ: the signed low 32
// bits of each lane, a 64-bit product), added to dst; then one at a time.
TEXT ·addScaledAVX2(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ w_base+24(FP), SI
	MOVQ w_len+32(FP), CX
	MOVQ n+48(FP), AX
	MOVQ AX, X0
	VPBROADCASTQ X0, Y0
	XORQ BX, BX

four:
	LEAQ 4(BX), DX
	CMPQ DX, CX
	JGT  one
	VPMOVSXDQ (SI)(BX*4), Y1
	VPMULDQ   Y0, Y1, Y1
	VPADDQ    (DI)(BX*8), Y1, Y1
	VMOVDQU   Y1, (DI)(BX*8)
	MOVQ      DX, BX
	JMP       four

one:
	CMPQ    BX, CX
	JGE     added
	MOVLQSX (SI)(BX*4), DX
	IMULQ   AX, DX
	ADDQ    DX, (DI)(BX*8)
	INCQ    BX
	JMP     one

added:
	VZEROUPPER
	RET
